/**
 * The terminal UI in a real terminal: tmux runs `safehouse join LINK` (the built CLI) in a pane;
 * the test types with `send-keys -l` + Enter and reads the screen with `capture-pane -p`. A
 * `--json` member talks with it through a real relay, which is SIGKILLed and restarted on the
 * same port and base path. Escape sequences a peer sends must neither clear the screen nor set
 * the pane's title nor reach the clipboard (THREATS D.23). At 100×30 and at 40×20.
 *
 * tmux runs on a socket of its own (-L), so nothing else on the machine is touched.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, messagesOf, startJoin, startServe, type Member, type Server } from './src/harness.js';

const HAVE_TMUX = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
if (!HAVE_TMUX)
  console.warn('tui.test.ts: SKIPPED: tmux is not installed (scripts/system-deps.sh installs it as root)');

const SOCKET = `safehouse-e2e-${process.pid}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args[0]}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Starts `safehouse join` in a new session of the given size. A shell around it writes its exit
 * status to a file (the arguments go through "$@": the link's & and # reach the CLI as they are).
 * Neither tmux's #{pane_dead_status} nor a line printed after exit is relied on: tmux 3.3 at
 * times leaves the exited process unreaped, without a status, or drops the last output.
 */
function openPane(session: string, cols: number, rows: number, args: string[]): void {
  const script = '"$@"; echo $? > "$STATUS_FILE"';
  tmux(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    String(cols),
    '-y',
    String(rows),
    '-e',
    `STATUS_FILE=${statusFile(session)}`,
    'sh',
    '-c',
    script,
    'sh',
    process.execPath,
    BIN,
    ...args,
  );
}

const statusFile = (session: string): string => join(tmpdir(), `safehouse-tui-${process.pid}-${session}.status`);

const screen = (session: string): string => tmux('capture-pane', '-p', '-t', session);

async function waitScreen(session: string, pred: (s: string) => boolean, what: string, ms = 30_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = screen(session);
    if (pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; screen:\n${s}`);
    await sleep(50);
  }
}

function typeLine(session: string, text: string): void {
  tmux('send-keys', '-t', session, '-l', text);
  tmux('send-keys', '-t', session, 'Enter');
}

/** Waits for the CLI in the pane to end; returns its exit status. */
async function exited(session: string, ms = 30_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const status = existsSync(statusFile(session)) ? readFileSync(statusFile(session), 'utf8').trim() : '';
    if (status !== '') return status;
    if (Date.now() > deadline) return 'still running';
    await sleep(50);
  }
}

const title = (session: string): string => tmux('display', '-p', '-t', session, '#{pane_title}').trim();
/** The chat screen is drawn: the status bar shows the connection. */
const chatDrawn = (s: string): boolean => /[●◌○×] (connected|connecting|reconnecting|offline)/.test(s);

const ESCAPES =
  'evil\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]2;pwned2\x1b\\\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\\x1b]52;c;cHduZWQ=\x07 end';

describe.skipIf(!HAVE_TMUX)('terminal UI in tmux', () => {
  let server: Server | undefined;
  let alice: Member | undefined;
  let link = '';

  beforeAll(async () => {
    tmux('new-session', '-d', '-s', 'keep', '-x', '80', '-y', '24', 'sleep', '3600');
    // Panes stay after their command ends, so its exit status can be read.
    tmux('set-option', '-g', 'remain-on-exit', 'on');
    // Programs may set tmux buffers with OSC 52: a peer's OSC 52 that got through would show there.
    tmux('set-option', '-g', 'set-clipboard', 'on');
    server = await startServe();
    alice = startJoin(server.url, 'alice');
    link = String((await alice.waitFor((e) => e.type === 'invite', 30_000, 'invite')).link);
  });

  afterAll(() => {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
    for (const s of ['bob', 'carol', ...[0, 1, 2, 3, 4].map((i) => `start${i}`)])
      rmSync(statusFile(s), { force: true });
    alice?.kill('SIGKILL');
    server?.kill('SIGKILL');
  });

  it('100×30: joins, sends, receives, survives a relay restart, shows escapes as text, leaves cleanly', async () => {
    const s = 'bob';
    openPane(s, 100, 30, ['join', link, '--name', 'bob']);
    await waitScreen(s, chatDrawn, 'the first frame');
    await waitScreen(s, (x) => x.includes('you are in lobby as bob'), 'bob admitted');
    const titleBefore = title(s);

    typeLine(s, 'hello from the terminal UI 你好 👋');
    await alice!.waitFor(
      () => messagesOf(alice!).some((e) => e.text === 'hello from the terminal UI 你好 👋'),
      20_000,
      'bob → alice',
    );
    alice!.send('hi bob, from a script');
    await waitScreen(s, (x) => x.includes('alice: hi bob, from a script'), 'alice → bob');
    await waitScreen(s, (x) => /Members \(2\)/.test(x) && x.includes('· alice'), 'alice in the member list');

    // A peer's escape sequences: shown as visible characters; the screen and the title stay.
    alice!.send(ESCAPES);
    const after = await waitScreen(s, (x) => x.includes('alice: evil'), 'the escapes message');
    expect(after).toContain('␛[2J');
    expect(after).toContain('alice: hi bob, from a script');
    expect(after).toContain('hello from the terminal UI');
    expect(title(s)).toBe(titleBefore);
    expect(title(s)).not.toMatch(/pwned/);
    expect(tmux('list-buffers')).not.toMatch(/pwned|cHduZWQ/);

    // The relay is killed and comes back on the same port and base path.
    const { port, basePath } = server!;
    server!.kill('SIGKILL');
    await server!.exited;
    await waitScreen(s, (x) => /reconnecting|connection lost/.test(x), 'the reconnect countdown');
    server = await startServe(['--port', String(port), '--base-path', basePath]);
    await waitScreen(s, (x) => x.includes('● connected') && x.includes('the relay restarted'), 'reconnected', 40_000);
    typeLine(s, 'after the restart');
    await alice!.waitFor(
      () => messagesOf(alice!).some((e) => e.text === 'after the restart'),
      30_000,
      'after restart → alice',
    );
    alice!.send('alice after the restart');
    await waitScreen(s, (x) => x.includes('alice: alice after the restart'), 'alice after restart → bob');

    typeLine(s, '/quit');
    await alice!.waitFor((e) => e.type === 'member-left' && e.name === 'bob', 20_000, 'bob left');
    expect(await exited(s), `the pane's last lines:\n${screen(s).trimEnd().split('\n').slice(-6).join('\n')}`).toBe(
      '0',
    );
    expect(messagesOf(alice!).filter((e) => e.text === 'after the restart')).toHaveLength(1);
  });

  it('40×20: no side pane, lines wrap within 40 columns, escapes stay text, Ctrl-D leaves', async () => {
    const s = 'carol';
    openPane(s, 40, 20, ['join', link, '--name', 'carol']);
    await waitScreen(s, (x) => x.includes('you are in lobby as') && x.includes('carol'), 'carol admitted');
    const titleBefore = title(s);
    const long = 'a long line with 你好世界 and 👋 emoji and مرحبا that has to wrap inside forty columns';
    alice!.send(long);
    const shown = await waitScreen(s, (x) => x.includes('forty') && x.includes('columns'), 'the long line');
    expect(shown).not.toContain('Members');
    for (const line of shown.split('\n')) expect([...line].length).toBeLessThanOrEqual(40);
    alice!.send(ESCAPES);
    const after = await waitScreen(s, (x) => x.includes('alice: evil'), 'escapes at 40 columns');
    expect(after).toContain('forty');
    expect(title(s)).toBe(titleBefore);
    typeLine(s, 'small screen, still fine');
    await alice!.waitFor(
      () => messagesOf(alice!).some((e) => e.text === 'small screen, still fine'),
      20_000,
      'carol → alice',
    );
    tmux('send-keys', '-t', s, 'C-d');
    await alice!.waitFor((e) => e.type === 'member-left' && e.name === 'carol', 20_000, 'carol left');
    expect(await exited(s), `the pane's last lines:\n${screen(s).trimEnd().split('\n').slice(-6).join('\n')}`).toBe(
      '0',
    );
  });

  it('start-up: the first frame of the chat, five runs (median printed)', async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = `start${i}`;
      const t0 = performance.now();
      openPane(s, 100, 30, ['join', server!.url, '--name', `u${i}`]);
      await waitScreen(s, chatDrawn, 'the first frame', 20_000);
      times.push(performance.now() - t0);
      tmux('send-keys', '-t', s, 'C-c');
    }
    times.sort((a, b) => a - b);
    const median = times[2]!;
    console.log(
      `tui.test.ts: time to the first frame (ms), sorted: ${times.map((t) => t.toFixed(0)).join(', ')}; median ${median.toFixed(0)}`,
    );
    expect(median).toBeLessThan(5_000);
  });
});

/**
 * The admin console on a real terminal (tmux): `/key export FILE` asks the passphrase twice without
 * echo, and the typed passphrase never becomes a console line — not on the screen, not as a
 * message to the default room (a member there receives nothing of it) — and the console goes on.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, startJoin, type Member } from './src/harness.js';
import { sleep, TempDir, which } from './src/ops.js';

const HAVE_TMUX = which('tmux') !== undefined;
if (!HAVE_TMUX) console.warn('admin-tty: skipped: tmux is not installed (apt-get install tmux)');
const session = `safehouse-admin-tty-${process.pid}`;
const tmp = new TempDir();
const members: Member[] = [];
const tmux = (...args: string[]): string => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = (): string => tmux('capture-pane', '-p', '-J', '-t', session, '-S', '-200');

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${screen()}`);
    await sleep(100);
  }
}

afterAll(() => {
  for (const m of members) m.kill('SIGKILL');
  try {
    tmux('kill-session', '-t', session);
  } catch {
    /* already gone */
  }
  tmp.remove();
});

describe.skipIf(!HAVE_TMUX)('admin console on a terminal', () => {
  it('/key export asks without echo and the passphrase goes nowhere else', async () => {
    const out = tmp.at('serve.out');
    const keyFile = tmp.at('admin.key');
    const secret = `pass-${Date.now()}-phrase`;
    tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '220',
      '-y',
      '50',
      `${process.execPath} ${BIN} serve --port 0 2>&1 | tee ${out}`,
    );
    await until(() => /Link: \S+#r=/.test(screen()), 20_000, 'the link');
    const link = /Link: (\S+)/.exec(readFileSync(out, 'utf8'))?.[1] ?? '';
    const alice = startJoin(link, 'alice');
    members.push(alice);
    await alice.waitFor((e) => e.type === 'joined', 30_000, 'alice joined');
    const type = (text: string): void => {
      tmux('send-keys', '-t', session, '-l', text);
      tmux('send-keys', '-t', session, 'Enter');
    };
    type(`/key export ${keyFile}`);
    await until(() => screen().includes('Passphrase for the exported admin key:'), 10_000, 'the prompt');
    type(secret);
    await until(() => screen().includes('The same passphrase again:'), 10_000, 'the second prompt');
    type(secret);
    await until(() => screen().includes('the admin identity is saved in'), 30_000, 'saved');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    type('@all still here');
    await alice.waitFor((e) => e.type === 'message' && e.text === 'still here', 20_000, 'the console goes on');
    expect(screen()).not.toContain(secret);
    expect(readFileSync(out, 'utf8')).not.toContain(secret);
    expect(JSON.stringify(alice.events)).not.toContain(secret);
    type('/quit');
  });
});

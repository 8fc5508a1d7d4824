/**
 * One client, one view (issue 13): the same scripted conversation shows the same transcript in
 * the three interfaces, each the real thing — line mode (`join --plain`, its stdout), the
 * terminal UI (`join` in a tmux pane, `capture-pane`) and the web (headless Chromium, the DOM's
 * text) — because all three draw the view the client's core builds.
 *
 * The script: three observers (lina: line mode, tuva: terminal UI, webb: browser) and alice (a
 * `--json` member) in the server's lobby; a message; a direct message to each observer; mallory
 * joins, leaves and comes back under a new key (a key change); `/ttl 1h` and a timed message;
 * proven time lost and regained at every observer (their monotonic clocks are moved 11 minutes
 * forward, past the age at which proven time goes stale: the terminal processes through a
 * preloaded module, the page through an init script), after which the timed message must be
 * shown once, not twice; mallory kicked by the server's admin; a last message as the marker that
 * everything before it has arrived.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, launchChromium, NO_CHROMIUM, openPage, say } from './src/browser.js';
import { BIN, Member, startJoin, startServe, type Server } from './src/harness.js';

const HAVE_TMUX = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const SKIP = !HAVE_TMUX || !HAVE_CHROMIUM;
if (SKIP) console.warn(`one-view.test.ts: SKIPPED: ${HAVE_TMUX ? '' : 'tmux is not installed (apt-get install -y tmux); '}${HAVE_CHROMIUM ? '' : NO_CHROMIUM}`);

const PRELOAD = fileURLToPath(new URL('./src/monotonic-shift.mjs', import.meta.url));
const SOCKET = `safehouse-one-view-${process.pid}`;
const ELEVEN_MINUTES = 11 * 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args[0]}: ${r.stderr}`);
  return r.stdout;
}

async function until<T>(get: () => T | Promise<T>, ok: (v: T) => boolean, what: string, ms = 45_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last:\n${String(v).slice(-3000)}`);
    await sleep(100);
  }
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;

/** Each needle found after the one before it. */
function inOrder(text: string, needles: readonly string[]): string[] {
  const missing: string[] = [];
  let at = 0;
  for (const n of needles) {
    const i = text.indexOf(n, at);
    if (i < 0) missing.push(n);
    else at = i + n.length;
  }
  return missing;
}

/** What each interface shows, as one text. */
type Observer = { name: string; shown(): Promise<string>; type(line: string): Promise<void> };

let server: Server;
let alice: Member;
let browser: Browser | undefined;
let page: Page;
const dir = mkdtempSync(join(tmpdir(), 'safehouse-one-view-'));
const shiftFile = join(dir, 'monotonic');
const observers: Observer[] = [];
const procs: Member[] = [];

function lineMode(link: string, name: string): Observer {
  const child = spawn(process.execPath, ['--import', PRELOAD, BIN, 'join', link, '--name', name, '--plain'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, SAFEHOUSE_E2E_MONOTONIC_FILE: shiftFile },
  });
  const m = new Member(child);
  procs.push(m);
  return { name, shown: () => Promise.resolve(m.lines.join('\n')), type: (line) => Promise.resolve(m.send(line)) };
}

function terminalUi(link: string, name: string): Observer {
  tmux('new-session', '-d', '-s', name, '-x', '250', '-y', '110', '-e', `NODE_OPTIONS=--import=${PRELOAD}`, '-e', `SAFEHOUSE_E2E_MONOTONIC_FILE=${shiftFile}`, process.execPath, BIN, 'join', link, '--name', name);
  return {
    name,
    shown: () => Promise.resolve(tmux('capture-pane', '-p', '-t', name)),
    type: async (line) => {
      tmux('send-keys', '-t', name, '-l', line);
      tmux('send-keys', '-t', name, 'Enter');
      await sleep(50);
    },
  };
}

async function web(link: string, name: string): Promise<Observer> {
  const { context, page: p } = await openPage(browser!);
  page = p;
  await context.addInitScript(() => {
    const real = performance.now.bind(performance);
    (globalThis as unknown as { __shiftMs: number }).__shiftMs = 0;
    performance.now = () => real() + (globalThis as unknown as { __shiftMs: number }).__shiftMs;
  });
  await p.goto(link);
  await p.getByLabel('Name', { exact: true }).fill(name);
  await p.getByRole('button', { name: /^(Join|Create room)$/ }).click();
  return { name, shown: async () => (await p.locator('body').innerText()).replace(/\s+/g, ' '), type: (line) => say(p, line) };
}

const normal = (s: string): string => s.replace(/\s+/g, ' ');
const shows = (o: Observer, needle: string, what = needle, ms?: number): Promise<string> => until(async () => normal(await o.shown()), (t) => t.includes(needle), `${o.name} to show "${what}"`, ms);

describe.skipIf(SKIP)('one view in three interfaces', () => {
  beforeAll(async () => {
    writeFileSync(shiftFile, '0');
    tmux('new-session', '-d', '-s', 'keep', 'sleep', '3600');
    server = await startServe(['--roughtime-port', '0']);
    const link = String(server.events.find((e) => e.type === 'ready')?.invite);
    expect(link).toMatch(/&t=/); // the lobby link carries the server's Roughtime server
    browser = await launchChromium();
    alice = startJoin(link, 'alice');
    procs.push(alice);
    await alice.waitFor((e) => e.type === 'joined', 45_000, 'alice joined');
    observers.push(lineMode(link, 'lina'), terminalUi(link, 'tuva'), await web(link, 'webb'));
    for (const o of observers) await shows(o, `you are in lobby as ${o.name}`, `${o.name} joined`, 60_000);
    for (const o of observers) await alice.waitFor((e) => e.type === 'member-joined' && e.name === o.name, 30_000, `alice to see ${o.name}`);
  }, 180_000);

  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await browser?.close();
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the scripted conversation shows the same transcript in line mode, the terminal UI and the browser', async () => {
    alice.send('hello everyone');
    for (const o of observers) await shows(o, 'hello everyone');

    // A direct message to each: only its recipient reads it (in its direct room).
    for (const o of observers) alice.send(`/msg ${o.name} psst-${o.name}`);
    const lina = observers[0]!;
    await shows(lina, `psst-lina`);
    for (const o of observers.slice(1)) {
      // The direct room is made when alice's invitation is taken: switch to it once it is there.
      await until(
        async () => {
          const t = normal(await o.shown());
          if (!t.includes('direct room with alice')) await o.type('/switch alice');
          return t;
        },
        (t) => t.includes('direct room with alice') && t.includes(`psst-${o.name}`),
        `${o.name}'s direct room`,
      );
    }
    const dms: Record<string, string> = {};
    for (const o of observers) dms[o.name] = normal(await o.shown());
    for (const o of observers.slice(1)) await o.type('/switch lobby');

    // A key change: mallory leaves and comes back under a new key.
    const mallory = startJoin(String(server.events.find((e) => e.type === 'ready')?.invite), 'mallory');
    procs.push(mallory);
    await mallory.waitFor((e) => e.type === 'joined', 45_000, 'mallory joined');
    mallory.send('/quit');
    await alice.waitFor((e) => e.type === 'member-left' && e.name === 'mallory', 30_000, 'mallory left');
    const mallory2 = startJoin(String(server.events.find((e) => e.type === 'ready')?.invite), 'mallory');
    procs.push(mallory2);
    await mallory2.waitFor((e) => e.type === 'joined', 45_000, 'mallory is back');
    for (const o of observers) await shows(o, 'KEY CHANGED');

    // A timer, and a timed message.
    alice.send('/ttl 1h');
    await alice.waitFor((e) => e.type === 'ttl' && e.ms === 3_600_000, 30_000, 'the timer');
    alice.send('timed hello');
    for (const o of observers) await shows(o, 'timed hello');

    // Proven time lost and regained at every observer.
    writeFileSync(shiftFile, String(ELEVEN_MINUTES));
    await page.evaluate((ms) => ((globalThis as unknown as { __shiftMs: number }).__shiftMs = ms), ELEVEN_MINUTES);
    for (const o of observers) await shows(o, 'time cannot be proven', `${o.name}: time lost`);
    for (const o of observers) await until(async () => normal(await o.shown()), (t) => count(t, 'time is proven by Roughtime') >= 2, `${o.name}: time proven again`);

    // A kick by the server's admin, then the marker.
    server.send('/kick mallory');
    for (const o of observers) await shows(o, 'mallory was removed by ADMIN');
    alice.send('the end');
    for (const o of observers) await shows(o, 'the end');

    const transcript = ['hello everyone', 'mallory joined lobby', 'mallory left lobby', 'KEY CHANGED', 'mallory joined lobby', 'set messages in lobby to disappear 1h', 'timed hello', 'mallory was removed by ADMIN', 'the end'];
    const seen: Record<string, string> = {};
    for (const o of observers) {
      const text = normal(await o.shown());
      seen[o.name] = text;
      expect(inOrder(text, transcript), `${o.name}: missing or out of order\n${text}`).toEqual([]);
      expect(count(text, 'timed hello'), `${o.name}: the timed message once`).toBe(1);
      expect(count(text, 'hello everyone'), `${o.name}: the first message once`).toBe(1);
    }
    for (const o of observers) {
      expect(dms[o.name], `${o.name} read its direct message`).toContain(`psst-${o.name}`);
      for (const other of observers) if (other !== o) expect(dms[o.name], `${o.name} never sees ${other.name}'s`).not.toContain(`psst-${other.name}`);
    }
  }, 300_000);
});

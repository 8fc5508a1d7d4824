/**
 * Errors a person can act on, with the real processes (issue 13): `safehouse join` with a wrong
 * or missing server password is told at once that the server answered 404 (`E_NOT_FOUND`), tries
 * 3 times in all, and exits 3 within seconds (it used to retry silently until E_JOIN_TIMEOUT,
 * 62 s later, and exit 1). The relay is unchanged: a counting proxy in front of it sees exactly
 * 3 upgrades. The right password still joins and exits 0 (docs/cli.md "How `join` ends").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startServe, startTap, type Json, type Server } from './src/harness.js';
import { inviteOf, sleep, TempDir } from './src/ops.js';

const tmp = new TempDir();
let server: Server;
let pw = '';
let proxy: Awaited<ReturnType<typeof startTap>>;

function events(stdout: string): Json[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Json);
}

beforeAll(async () => {
  pw = tmp.file('password', 'open sesame, slowly\n');
  server = await startServe(['--password-file', pw]);
  proxy = await startTap(server.port); // counts the upgrades that reach the relay
});
afterAll(async () => {
  proxy?.close();
  server?.kill('SIGTERM');
  await server?.exited;
  tmp.remove();
});

/** The room link, through the counting proxy (the password is bound to the base path, not the port). */
const link = (): string => inviteOf(server).replace(`:${server.port}/`, `:${proxy.port}/`);

describe('join: errors a person can act on', () => {
  // First: the wrong tries below make the relay's password back-off answer this address 404 for a while.
  it('the right password joins, and the end of input exits 0', async () => {
    const r = await run(['join', link(), '--name', 'alice', '--json', '--password-file', pw], '', 60_000);
    expect(r.code).toBe(0);
    const evs = events(r.stdout);
    expect(evs.some((e) => e.type === 'joined')).toBe(true);
    expect(evs.filter((e) => e.type === 'error' || e.type === 'fatal')).toEqual([]);
  });

  it('a wrong password: E_NOT_FOUND said once, at once; 3 upgrades reach the server; exit 3 within seconds', async () => {
    const wrong = tmp.file('wrong', 'open sesame\n');
    const before = proxy.upgrades();
    const started = Date.now();
    const r = await run(['join', link(), '--name', 'trudy', '--json', '--password-file', wrong], '', 30_000);
    const took = Date.now() - started;
    expect(r.code).toBe(3);
    expect(took).toBeLessThan(10_000);
    const evs = events(r.stdout);
    const errors = evs.filter((e) => e.type === 'error');
    expect(errors).toEqual([{ type: 'error', code: 'E_NOT_FOUND', message: expect.stringMatching(/^the server answered 404: the link's path or the server password is wrong, or the server is gone; trying 2 more times$/) }]);
    // Said before the second try, not after the last one.
    const secondTry = evs.findIndex((e) => e.type === 'connection' && e.state === 'connecting' && e.attempt === 1);
    expect(evs.indexOf(errors[0]!)).toBeLessThan(secondTry);
    expect(evs.filter((e) => e.type === 'fatal')).toEqual([{ type: 'fatal', code: 'E_NOT_FOUND', message: expect.stringMatching(/404 to 3 tries/), closed: true }]);
    expect(evs.some((e) => e.type === 'joined')).toBe(false);
    await sleep(1_000);
    expect(proxy.upgrades() - before).toBe(3);
    // Nothing secret on either stream: not the password, not the link's secret fragment.
    for (const out of [r.stdout, r.stderr]) {
      expect(out).not.toContain('open sesame');
      expect(out).not.toContain(link().split('#')[1]);
    }
  });

  it('no password, in line mode: the same, as one line with the code, then the end (exit 3)', async () => {
    const before = proxy.upgrades();
    const r = await run(['join', link(), '--name', 'mallory', '--plain'], '', 30_000);
    expect(r.code).toBe(3);
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => /^!! the server answered 404: .*; trying 2 more times \(E_NOT_FOUND\)$/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('(E_NOT_FOUND)'))).toHaveLength(2); // that line, and the fatal's
    expect(proxy.upgrades() - before).toBe(3);
  });

});

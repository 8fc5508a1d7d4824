/**
 * Failover with real processes: two `safehouse serve` on one base path, the first started with
 * `--also` naming the second, so its link carries `a=`. Two members join through the first
 * relay's link; the first relay is stopped (SIGTERM: it says `closing`); both move to the second
 * at once and go on chatting there, every message shown exactly once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { messagesOf, run, startJoin, startServe, type Member, type Server } from './src/harness.js';

const procs: Array<Member | Server> = [];
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL');
});

describe('safehouse serve --also', () => {
  it('puts the other relay in the link, and members move there when the first stops', async () => {
    const b = await startServe(['--no-admin']);
    procs.push(b);
    const also = `http://127.0.0.1:${b.port}`;
    const a = await startServe(['--no-admin', '--base-path', b.basePath, '--also', also]);
    procs.push(a);
    const ready = a.events.find((e) => e.type === 'ready')!;
    expect(ready.also).toEqual([also]);
    expect(String(ready.invite)).toMatch(/#a=[A-Za-z0-9_-]+$/);

    const alice = startJoin(String(ready.invite), 'alice');
    procs.push(alice);
    const inv = await alice.waitFor((e) => e.type === 'invite', 30_000, 'invite');
    expect(String(inv.link)).toContain('&a=');
    const bob = startJoin(String(inv.link), 'bob');
    procs.push(bob);
    await bob.waitFor((e) => e.type === 'joined', 30_000, 'bob joined');
    alice.send('before');
    await bob.waitFor((e) => e.type === 'message' && e.text === 'before', 20_000, 'before at bob');

    a.kill('SIGTERM');
    await a.exited;
    const atB = (e: Record<string, unknown>): boolean => e.type === 'connection' && e.state === 'connected' && e.endpoint === `127.0.0.1:${b.port}`;
    await alice.waitFor(atB, 20_000, 'alice on B');
    await bob.waitFor(atB, 20_000, 'bob on B');
    alice.send('after, from alice');
    bob.send('after, from bob');
    await bob.waitFor((e) => e.type === 'message' && e.text === 'after, from alice', 20_000, "alice's message at bob");
    await alice.waitFor((e) => e.type === 'message' && e.text === 'after, from bob', 20_000, "bob's message at alice");
    expect(messagesOf(bob).map((e) => e.text)).toEqual(['before', 'after, from alice']);
    expect(messagesOf(alice).map((e) => e.text)).toEqual(['after, from bob']);
    expect([...alice.events, ...bob.events].filter((e) => e.type === 'fatal')).toEqual([]);
  });

  it('refuses an --also it cannot use, with a sentence and exit 2', async () => {
    const r = await run(['serve', '--also', 'http://127.0.0.1:8091/base']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--also expects http\(s\):\/\/host\[:port\].*no path.*got "http:\/\/127\.0\.0\.1:8091\/base" \(E_USAGE\)/);
  });
});

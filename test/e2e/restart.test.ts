/**
 * THREATS G.31: the relay is SIGKILLed mid-conversation and restarted on the same port and
 * base path; members reconnect, resend from their outbox, and dedup: every message arrives
 * exactly once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { messagesOf, startJoin, startServe, type Member, type Server } from './src/harness.js';

const members: Member[] = [];
let server: Server | undefined;

afterAll(() => {
  for (const m of members) m.kill('SIGKILL');
  server?.kill('SIGKILL');
});

const sleep = (ms: number): Promise<unknown> => new Promise((r) => setTimeout(r, ms));

describe('relay killed and restarted', () => {
  it('loses no message and shows none twice', async () => {
    server = await startServe();
    const { port, basePath, url } = server;
    const a = startJoin(url, 'alice');
    members.push(a);
    const inv = await a.waitFor((e) => e.type === 'invite', 30_000, 'invite');
    const b = startJoin(String(inv.link), 'bob');
    members.push(b);
    await b.waitFor((e) => e.type === 'joined', 30_000, 'bob joined');

    const N = 30;
    for (let i = 0; i < N; i++) {
      a.send(`a-${i}`);
      b.send(`b-${i}`);
      if (i === 10) {
        server.kill('SIGKILL');
        await server.exited;
        await sleep(300);
      }
      if (i === 20) server = await startServe(['--port', String(port), '--base-path', basePath]);
      await sleep(50);
    }
    const want = (p: string) => Array.from({ length: N }, (_, i) => `${p}-${i}`);
    await b.waitFor(() => want('a').every((t) => messagesOf(b).some((e) => e.text === t)), 60_000, 'all of alice at bob').catch(() => undefined);
    await a.waitFor(() => want('b').every((t) => messagesOf(a).some((e) => e.text === t)), 60_000, 'all of bob at alice').catch(() => undefined);
    // one more event to re-run the predicates above if the last message was already in
    const count = (m: Member, t: string) => messagesOf(m).filter((e) => e.text === t).length;
    expect(want('a').map((t) => count(b, t))).toEqual(Array(N).fill(1));
    expect(want('b').map((t) => count(a, t))).toEqual(Array(N).fill(1));
  });
});

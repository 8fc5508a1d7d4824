/**
 * THREATS B.15 and E.28 on the relay's side: a canary sent in chat, and a room name, never
 * appear in the server's output, nor in any byte the relay sends (recorded by a TCP tap; frames
 * from a server are unmasked, so a byte search finds plaintext).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startJoin, startServe, startTap, type Member, type Server } from './src/harness.js';

const CANARY = 'CANARY-7f3a9c-plaintext-must-not-leak';
const ROOM_NAME = 'CanaryRoom-b81e';
let server: Server;
let tap: Awaited<ReturnType<typeof startTap>>;
const members: Member[] = [];

afterAll(async () => {
  for (const m of members) m.kill('SIGKILL');
  tap?.close();
  server?.kill('SIGTERM');
  await server?.exited;
});

describe('the relay never sees plaintext', () => {
  it('canary text and room name appear in no server output and no relayed byte', async () => {
    server = await startServe();
    tap = await startTap(server.port);
    const viaTap = server.url.replace(`:${server.port}/`, `:${tap.port}/`);
    const a = startJoin(viaTap, 'alice');
    members.push(a);
    await a.waitFor((e) => e.type === 'invite', 30_000, 'first invite');
    a.send(`/room create ${ROOM_NAME}`);
    const inv = await a.waitFor((e) => e.type === 'invite' && typeof e.link === 'string' && e.link.includes('&n='), 30_000, 'named room invite');
    const b = startJoin(String(inv.link), 'bob');
    members.push(b);
    await b.waitFor((e) => e.type === 'joined' && e.room === inv.room, 30_000, 'bob joined');
    a.send(`/switch ${String(inv.room)}`);
    await a.waitFor((e) => e.type === 'switched', 10_000, 'switched');
    a.send(CANARY);
    b.send(`reply ${CANARY}`);
    await b.waitFor((e) => e.type === 'message' && e.text === CANARY, 20_000, 'canary at bob');
    await a.waitFor((e) => e.type === 'message' && e.text === `reply ${CANARY}`, 20_000, 'reply at alice');

    const relayed = tap.fromServer();
    expect(relayed.length).toBeGreaterThan(1000);
    for (const needle of [CANARY, ROOM_NAME, Buffer.from(CANARY).toString('base64').slice(0, 24)]) {
      expect(relayed.includes(Buffer.from(needle)), `relayed bytes contain ${needle}`).toBe(false);
      expect(server.lines.join('\n') + server.stderr).not.toContain(needle);
    }
  });
});

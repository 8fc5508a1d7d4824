/**
 * Issue 12, attack 4 (THREATS H.38 and E.28), with real processes: `safehouse serve` and two
 * `safehouse join --json` members, one with a canary display name, talk through a recording TCP
 * proxy that keeps every byte both ways (WebSocket frames from clients decoded and unmasked).
 * The canary joins the room, chats, and is written to in a direct room (a second join request);
 * after its last message arrived, the canary is in no byte: not as UTF-8, UTF-16, hex, base64
 * or base64url. Before join requests were sealed, the name travelled in the clear in every one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { decodeClientFrame } from '@safehouse/core/protocol';
import { needlesFor, startWireTap, type WireTap } from '../../packages/cli/src/testing/wiretap.js';
import { startJoin, startServe, type Member, type Server } from './src/harness.js';

const CANARY = 'canary-Zq81xV';
let server: Server;
let tap: WireTap;
const members: Member[] = [];

afterAll(async () => {
  for (const m of members) m.kill('SIGKILL');
  tap?.close();
  server?.kill('SIGTERM');
  await server?.exited;
});

describe('a join request tells the relay nothing', () => {
  it('a canary display name appears in no byte the relay receives or sends', async () => {
    server = await startServe();
    tap = await startWireTap(server.port);
    const alice = startJoin(tap.via(server.url), 'alice');
    members.push(alice);
    const inv = await alice.waitFor((e) => e.type === 'invite', 30_000, 'alice invite');
    const room = String(inv.room);
    const canary = startJoin(String(inv.link), CANARY);
    members.push(canary);
    await canary.waitFor((e) => e.type === 'joined' && e.room === room, 30_000, 'the canary joined');
    canary.send('hello from the canary');
    await alice.waitFor((e) => e.type === 'message' && e.text === 'hello from the canary', 20_000, 'the canary heard');
    // A direct room: the canary joins it with a join request of its own.
    alice.send(`/msg ${CANARY} just us`);
    await canary.waitFor((e) => e.type === 'message' && e.text === 'just us', 30_000, 'the direct message at the canary');
    canary.send('/msg alice back to you');
    await alice.waitFor((e) => e.type === 'message' && e.text === 'back to you', 30_000, 'the answer in the direct room');
    // The marker: the canary's last word reached alice, so everything before it went through.
    canary.send('marker from the canary');
    await alice.waitFor((e) => e.type === 'message' && e.text === 'marker from the canary', 20_000, 'the marker');

    const joins = tap
      .streams()
      .flatMap((s) => s.toRelay.payloads.map((p) => decodeClientFrame(p)))
      .filter((f) => f.ok && f.header.t === 'join');
    expect(joins.length).toBeGreaterThanOrEqual(2); // the room, and the direct room
    expect(tap.total()).toBeGreaterThan(10_000);
    // Positive control: what the relay must see (the room id, in masked client frames too) is found.
    expect(tap.find([{ label: 'room id', bytes: Buffer.from(room) }]).some((f) => f.includes('to the relay'))).toBe(true);
    expect(tap.find(needlesFor(CANARY))).toEqual([]);
  });
});

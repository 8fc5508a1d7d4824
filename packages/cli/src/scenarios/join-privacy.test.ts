/**
 * Issue 12, attack 4 (THREATS H.38): join requests told the relay who is joining. The body of a
 * `join` frame carried the display name, the identity key and the device's clock (the
 * KeyPackage's lifetime) in the clear, for the relay and every subscriber of the room to read.
 *
 * Expected: the relay routes opaque bytes. A recording TCP proxy stands between every client and
 * the real relay and keeps every byte both ways (WebSocket frames from clients decoded and
 * unmasked); a member with a canary display name joins, chats, is re-admitted, and is written to
 * in a direct room, and after a marker proves all of it went through, the canary is in no byte,
 * in UTF-8, UTF-16, hex, base64 or base64url.
 */
import { afterEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { decodeClientFrame, decodeRelayFrame, encodeFrame, randomId, type RelayHeader } from '@safehouse/core/protocol';
import { World, marker, roomOf, until, type Interceptor } from '../testing/members.js';
import { needlesFor, startWireTap, type WireTap } from '../testing/wiretap.js';

const CANARY = 'canary-Zq81xV';

const world = new World();
let tap: WireTap | undefined;
afterEach(async () => {
  await world.end();
  tap?.close();
  tap = undefined;
});

/** The canary's transport: once asked, the relay's presence frames say it is alone in its cohort while others exist. */
function aloneOnRequest(): { interceptor: Interceptor; alone(room: string): void; together(): void } {
  let alone = false;
  let inject: ((b: Uint8Array) => void) | undefined;
  const fake = (room: string): Uint8Array => encodeFrame({ v: 1, t: 'presence', room, count: 1, others: 2 });
  return {
    interceptor: {
      inbound: (h, _bytes, inj) => {
        inject = inj;
        return h.t === 'presence' && alone ? { replace: [fake(h.room)] } : 'pass';
      },
    },
    alone(room) {
      alone = true;
      inject!(fake(room));
    },
    together() {
      alone = false;
    },
  };
}

it('aCanaryDisplayNameNeverReachesTheRelay: joining, chatting, a re-admission and a direct message', async () => {
  const server = await world.server();
  tap = await startWireTap(server.port);
  const relay = aloneOnRequest();
  const quick = { timing: { aloneRejoinMs: 500 } };
  const { link, all } = await world.room({ ...server, url: tap.via(server.url) }, ['alice', 'bob', CANARY], {
    alice: quick,
    bob: quick,
    [CANARY]: { ...quick, interceptor: relay.interceptor },
  });
  const [alice, bob, canary] = all as [NonNullable<(typeof all)[0]>, NonNullable<(typeof all)[0]>, NonNullable<(typeof all)[0]>];
  const room = roomOf(link);
  // Chat.
  await canary.client.command(`hello from ${CANARY}`);
  await until(() => alice.texts().includes(`hello from ${CANARY}`), 'the canary heard');
  // A re-admission: the relay says the canary is alone while others exist; it asks under its own identity.
  relay.alone(room);
  await until(() => alice.of('info').some((e) => e.message.includes(`${CANARY} was re-admitted`)), 'the canary re-admitted', 20_000);
  relay.together();
  // A direct message to the canary: it joins a direct room with a join request of its own.
  await alice.client.command(`/msg ${CANARY} just us`);
  await until(() => canary.texts().includes('just us'), 'the direct message at the canary', 20_000);
  await canary.client.command('/msg alice back to you');
  await until(() => alice.texts().includes('back to you'), 'the answer in the direct room');
  // Everything above went through the relay: the canary's last word reached both.
  await marker(canary, bob);
  await marker(canary, alice);

  const streams = tap.streams();
  const joins = streams.flatMap((s) => s.toRelay.payloads.map((p) => decodeClientFrame(p))).filter((f) => f.ok && f.header.t === 'join');
  // The canary's first join, its re-admission, and its join of the direct room (and bob's) went by.
  expect(joins.length).toBeGreaterThanOrEqual(4);
  // Positive control: what the relay must see (the room id, in masked client frames too) is found.
  expect(tap.find([{ label: 'room id', bytes: Buffer.from(room) }]).some((f) => f.includes('to the relay'))).toBe(true);
  expect(tap.find(needlesFor(CANARY))).toEqual([]);
}, 90_000);

it('aJoinRequestThatOpensUnderNoSecretOfTheRoomIsDroppedSilently', async () => {
  const server = await world.server();
  const { link, all } = await world.room(server, ['alice', 'bob']);
  const [alice, bob] = all as [NonNullable<(typeof all)[0]>, NonNullable<(typeof all)[0]>];
  // Both settled first (their snapshots of the room after bob's join are out): what follows is the attack's.
  await marker(alice, bob);
  await marker(bob, alice);
  const before = [alice.events.length, bob.events.length] as const;
  // Anyone who knows the room id (the relay, a link holder of another room): bytes of the
  // sealed size, and others, that open under no secret of the room.
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}ws`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const frames: RelayHeader[] = [];
  ws.on('message', (d: Buffer) => {
    const f = decodeRelayFrame(new Uint8Array(d));
    if (f.ok) frames.push(f.header);
  });
  ws.send(encodeFrame({ v: 1, t: 'hello', session: randomId() }));
  await until(() => frames.some((f) => f.t === 'hello'), 'hello');
  for (const size of [1053, 100, 1])
    ws.send(encodeFrame({ v: 1, t: 'join', room: roomOf(link), id: randomId() }, crypto.getRandomValues(new Uint8Array(size))));
  await until(() => frames.filter((f) => f.t === 'ack' || f.t === 'nack').length >= 3, 'the relay to take the join requests');
  await marker(alice, bob);
  await marker(bob, alice);
  // No event at either member (no error, no refusal, no join) but the markers, and no answer.
  expect([...alice.events.slice(before[0]), ...bob.events.slice(before[1])].filter((e) => e.type !== 'message')).toEqual([]);
  expect(frames.filter((f) => f.t === 'welcome')).toEqual([]);
  ws.terminate();
});

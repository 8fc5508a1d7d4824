/**
 * Issue 12, attack 7 (the client's half): a malicious relay floods one client — thousands of
 * join requests (garbage, replays, and a few hundred with valid invite proofs, as a link holder
 * working with the relay could make), presence flips, bogus messages and Welcomes — and the
 * client's state stays within its bounds (core/client/bounds.ts), it says so once with
 * `E_LIMIT`, and it keeps working: a marker goes through both ways afterwards.
 *
 * Real relay, real clients; the flood is injected on alice's line (a tapped transport), as the
 * relay would send it.
 */
import { afterEach, expect, it } from 'vitest';
import { createE2ee } from '@safehouse/core/e2ee';
import { encodeFrame, parseInvite, randomId } from '@safehouse/core/protocol';
import { World, marker, until, type Interceptor, type Member } from '../testing/members.js';

const world = new World();
afterEach(() => world.end());

type Sizes = { future: number; held: number; joins: number };
type Internals = { rooms: Map<string, { keptSizes(): Sizes }>; ctx: { outbox: { size: number } } };
const JOIN_BOUND = 256; // BOUNDS.joinIntents
const OUTBOX_BOUND = 1024; // BOUNDS.outboxFrames

it('aRelayFloodingAClientCannotGrowItsStateAndTheClientKeepsWorking', async () => {
  const server = await world.server();
  let toAlice: ((b: Uint8Array) => void) | undefined;
  const tap: Interceptor = {
    inbound: (_h, _b, inject) => {
      toAlice = inject;
      return 'pass';
    },
  };
  const { link, all } = await world.room(server, ['alice', 'bob'], { alice: { interceptor: tap } });
  const [alice, bob] = all as [Member, Member];
  const inv = parseInvite(link);
  if (!inv.ok || !inv.invite.room) throw new Error('a room link');
  const { id: room, secret } = inv.invite.room;
  const internals = alice.client as unknown as Internals;
  const sizes = (): Sizes => internals.rooms.get(room)!.keptSizes();
  // The state at the moment each bound is said to be hit (events are emitted synchronously).
  const atLimit: Sizes[] = [];
  alice.client.on((e) => void (e.type === 'error' && e.code === 'E_LIMIT' && atLimit.push(sizes())));

  // Join requests with valid proofs under the room's secret, all named like a member (so none
  // is ever admitted: each is refused when its turn comes), made before the flood starts.
  const e2ee = createE2ee();
  const identity = await e2ee.createIdentity();
  const valid: Uint8Array[] = [];
  for (let i = 0; i < JOIN_BOUND + 44; i++) valid.push((await e2ee.createJoinRequest(identity, 'bob', room, secret)).body);

  const inject = toAlice!;
  const epoch = 1;
  for (const request of valid) inject(encodeFrame({ v: 1, t: 'join', room, id: randomId() }, request));
  for (let i = 0; i < 2_000; i++) {
    inject(encodeFrame({ v: 1, t: 'join', room, id: randomId() }, valid[0])); // a replay
    inject(encodeFrame({ v: 1, t: 'join', room, id: randomId() }, crypto.getRandomValues(new Uint8Array(200)))); // garbage
    inject(encodeFrame({ v: 1, t: 'presence', room, count: 2 + (i % 2) }));
    inject(encodeFrame({ v: 1, t: 'msg', room, id: randomId(), kind: 'app', epoch, seq: i }, crypto.getRandomValues(new Uint8Array(300))));
    inject(encodeFrame({ v: 1, t: 'welcome', room, id: randomId() }, crypto.getRandomValues(new Uint8Array(300))));
  }

  // The bound was hit and said, and the state stood at it.
  await until(() => atLimit.length > 0, 'the E_LIMIT event', 30_000);
  expect(atLimit[0]!.joins).toBe(JOIN_BOUND);
  // alice still works, both ways (the flood is processed: the markers queue behind it).
  await marker(bob, alice, 'after the flood, from bob');
  await marker(alice, bob, 'after the flood, from alice');
  const after = sizes();
  expect(after.joins).toBeLessThanOrEqual(JOIN_BOUND);
  expect(after.future).toBeLessThanOrEqual(256);
  expect(after.held).toBe(0);
  expect(internals.ctx.outbox.size).toBeLessThanOrEqual(OUTBOX_BOUND);
  // Said once per bound and room (every 10 s at most), not once per frame.
  const limits = alice.of('error').filter((e) => e.code === 'E_LIMIT');
  expect(limits.length).toBeGreaterThan(0);
  expect(limits.length).toBeLessThanOrEqual(4);
  // Nothing a peer chose (a name, a text) is in what was said.
  for (const e of limits) expect(e.message).not.toMatch(/bob/);
}, 90_000);

it('aSendAtTheOutboxBoundIsRefusedWithAnErrorAndNothingIsLost', async () => {
  // A relay that takes alice's messages (and fans them out) but holds every ack: her outbox fills.
  // The relay's own rate limits are not what this test is about: set them out of the way.
  const server = await world.server({ limits: { ratePerSecond: 100_000, rateBurst: 100_000, bytesPerSecond: 1 << 30, bytesBurst: 1 << 30 } });
  let holding = false;
  const held: Array<() => void> = [];
  const tap: Interceptor = {
    inbound: (h, bytes, inject) => {
      if (!holding || h.t !== 'ack') return 'pass';
      const copy = bytes.slice();
      held.push(() => inject(copy));
      return 'drop';
    },
  };
  const { all } = await world.room(server, ['alice', 'bob'], { alice: { interceptor: tap } });
  const [alice, bob] = all as [Member, Member];
  holding = true;
  for (let i = 0; i < OUTBOX_BOUND; i++) await alice.client.command(`m${i}`);
  expect((alice.client as unknown as Internals).ctx.outbox.size).toBe(OUTBOX_BOUND);
  const before = alice.of('error').length;
  await alice.client.command('one too many');
  // Refused, said, not echoed as sent: the user still has the text and knows it did not go.
  expect(alice.of('error').slice(before)).toEqual([expect.objectContaining({ code: 'E_LIMIT' })]);
  expect(alice.of('message').some((m) => m.text === 'one too many')).toBe(false);
  expect((alice.client as unknown as Internals).ctx.outbox.size).toBe(OUTBOX_BOUND);
  // The relay acks at last: room again, and every message taken was delivered.
  holding = false;
  for (const deliver of held.splice(0)) deliver();
  await until(() => (alice.client as unknown as Internals).ctx.outbox.size === 0, 'the outbox to drain');
  await marker(alice, bob, 'sent once the outbox drained');
  const got = new Set(bob.texts());
  for (let i = 0; i < OUTBOX_BOUND; i++) expect(got.has(`m${i}`), `m${i}`).toBe(true);
}, 90_000);

it('aRelayReplayingAJoinRequestCannotMakeAMemberUploadAWelcomePerReplay', async () => {
  const server = await world.server();
  let toAlice: ((b: Uint8Array) => void) | undefined;
  let request: { body: Uint8Array } | undefined;
  let welcomes = 0;
  const tap: Interceptor = {
    inbound: (h, bytes, inject) => {
      toAlice = inject;
      if (h.t === 'join' && request === undefined) request = { body: bytes.slice() }; // the whole frame, as the relay sent it
      return 'pass';
    },
    outbound: (h) => {
      if (h.t === 'welcome') welcomes++;
      return 'pass';
    },
  };
  const { all } = await world.room(server, ['alice', 'bob'], { alice: { interceptor: tap } });
  const [alice, bob] = all as [Member, Member];
  expect(welcomes).toBe(1);
  // bob's join request, replayed 1,000 times at once (the relay kept it).
  const start = Date.now();
  for (let i = 0; i < 1_000; i++) toAlice!(request!.body);
  await marker(bob, alice, 'after the replays');
  await new Promise((r) => setTimeout(r, 400)); // past the 250 ms in which later asks are coalesced
  await marker(bob, alice, 'after the coalesced answer');
  // At most one upload every 250 ms while the replays are processed: not one per replay (one
  // more allowed for the wall clock measuring what the monotonic timers spaced, on a loaded machine).
  expect(welcomes - 1).toBeLessThanOrEqual(Math.ceil((Date.now() - start) / 250) + 2);
  expect(welcomes).toBeLessThan(50);
}, 60_000);

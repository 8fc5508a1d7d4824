/**
 * Re-admission against a relay that fakes presence (found by an attacker review):
 * - it told a member "alone" over and over: every attempt was answered, each reset the backoff,
 *   and the room committed a re-admission 8 to 16 times a minute;
 * - it told a member "alone", let its re-admission land, dropped the Welcome, then said "with
 *   everyone": the member's leaf was replaced, nothing asked again, and its room looked joined
 *   while nothing it wrote could be sent.
 * - it held a member's first attempt back and delivered it in place of the second: the members
 *   re-admitted the member with the first attempt's KeyPackage (whose keys it had dropped) while
 *   it waited for the second's Welcome, and its room ended.
 * Expected: the backoff holds across re-admissions and short "not alone" spells; a member whose
 * own re-admission landed without its Welcome is out of the group (messages wait), asks once
 * more, and if no Welcome comes, is told and leaves the room (as after absence); a leaf replaced
 * by a KeyPackage of another attempt is a bounce: it asks again at once.
 */
import { afterEach, expect, it } from 'vitest';
import { decodeRelayFrame, encodeFrame } from '@safehouse/core/protocol';
import { World, roomOf, sleep, until, type Interceptor } from '../testing/members.js';

type State = { presence: Mode; dropWelcome: boolean; joins: number; welcomesDropped: number; inject?: (b: Uint8Array) => void };
function fake(state: State, room: string): void {
  state.inject!(encodeFrame(state.presence === 'alone' ? { v: 1, t: 'presence', room, count: 1, others: 2 } : { v: 1, t: 'presence', room, count: 3 }));
}

const world = new World();
afterEach(() => world.end());

type Mode = 'pass' | 'alone' | 'crowd';

/** carol behind a relay that rewrites her presence frames (alone: count 1 others 2; crowd: count 3 no others) and may drop Welcomes to her. */
function relayFor(state: State): Interceptor {
  return {
    inbound: (h, bytes, inject) => {
      state.inject = inject;
      if (h.t === 'presence' && state.presence !== 'pass') {
        const body = decodeRelayFrame(bytes);
        if (!body.ok) return 'pass';
        return { replace: [encodeFrame(state.presence === 'alone' ? { v: 1, t: 'presence', room: h.room, count: 1, others: 2 } : { v: 1, t: 'presence', room: h.room, count: 3 })] };
      }
      if (h.t === 'welcome' && state.dropWelcome) {
        state.welcomesDropped++;
        return 'drop';
      }
      return 'pass';
    },
    outbound: (h) => {
      if (h.t === 'join') state.joins++;
      return 'pass';
    },
  };
}

it('aRelayFakingPresenceCannotDriveAMemberIntoReadmissionsWithoutBackoff', async () => {
  const server = await world.server();
  const state: State = { presence: 'pass', dropWelcome: false, joins: 0, welcomesDropped: 0 };
  const quick = { timing: { aloneRejoinMs: 1_000 } };
  const { link, all } = await world.room(server, ['alice', 'bob', 'carol'], { alice: quick, bob: quick, carol: { ...quick, interceptor: relayFor(state) } });
  const [alice, , carol] = all;
  state.joins = 0;
  state.presence = 'alone'; // from now on, every presence frame to carol says she is alone
  // A presence frame: have the relay send one (bob reconnects => presence to everyone).
  fake(state, roomOf(link));
  // The relay repeats its claim every second (presence frames are the relay's word alone).
  const tick = setInterval(() => fake(state, roomOf(link)), 1_000);
  await sleep(30_000);
  clearInterval(tick);
  const readmitted = alice!.of('info').filter((e) => /carol was re-admitted/.test(e.message)).length;
  const asks = carol!.of('info').filter((e) => /asking the other members to re-admit/.test(e.message)).length;
  expect(readmitted).toBeLessThanOrEqual(asks);
  // With backoff (1, 2, 4, 8, 16 s) at most 5 attempts fit in 30 s.
  expect(asks).toBeLessThanOrEqual(5);
}, 90_000);

it('aMemberWhoseReadmissionLandsButWhoseWelcomeTheRelayDropsAsksOnceMoreAndIsBack', async () => {
  const server = await world.server();
  const state: State = { presence: 'pass', dropWelcome: false, joins: 0, welcomesDropped: 0 };
  const quick = { timing: { aloneRejoinMs: 500 } };
  const { link, all } = await world.room(server, ['alice', 'bob', 'carol'], {
    alice: quick,
    bob: quick,
    carol: { timing: { aloneRejoinMs: 500, joinTimeoutMs: 4_000 }, interceptor: relayFor(state) },
  });
  const [alice, , carol] = all;
  state.dropWelcome = true;
  state.presence = 'alone';
  fake(state, roomOf(link));
  // carol asks (fake alone), alice/bob re-admit her: the commit replaces her leaf, her Welcome is dropped.
  await until(() => alice!.of('info').some((e) => /carol was re-admitted/.test(e.message)), 'a re-admission of carol', 20_000);
  await until(() => state.welcomesDropped > 0, 'the Welcome dropped', 10_000);
  state.dropWelcome = false; // one Welcome dropped, no more
  state.presence = 'crowd'; // the relay now says she is with everyone
  fake(state, roomOf(link));
  // What she writes meanwhile waits; she asks once more after her joinTimeoutMs, and is back.
  await carol!.client.command('carol after the attack');
  const heard = await until(() => alice!.texts().includes('carol after the attack'), 'alice reads carol', 20_000).then(() => true, () => false);
  expect({ heard, left: carol!.of('left'), usage: carol!.of('error').filter((e) => e.code === 'E_USAGE') }).toEqual({ heard: true, left: [], usage: [] });
  expect(carol!.of('info').some((e) => /asking once more/.test(e.message))).toBe(true);
}, 90_000);

/** carol behind a relay that says "alone", withholds her first re-admission request, and sends it in place of her second. */
it('aReplayedEarlierAttemptLandingDuringALaterOneOnlyBouncesItsMember', async () => {
  const server = await world.server();
  const st = { attack: false, swapped: false, first: undefined as Uint8Array | undefined, joins: 0, inject: undefined as undefined | ((b: Uint8Array) => void) };
  const relay: Interceptor = {
    inbound: (h, _b, inject) => {
      st.inject = inject;
      if (h.t === 'presence' && st.attack) return { replace: [encodeFrame({ v: 1, t: 'presence', room: h.room, count: 1, others: 2 })] };
      return 'pass';
    },
    outbound: (h, bytes) => {
      if (h.t !== 'join' || !st.attack || st.swapped) return 'pass';
      st.joins++;
      if (!st.first) {
        st.first = bytes.slice();
        return 'drop'; // attempt 1 withheld
      }
      st.swapped = true; // once: what carol asks after that passes
      return { replace: [st.first] }; // attempt 2 dropped, attempt 1 delivered in its place
    },
  };
  const quick = { timing: { aloneRejoinMs: 500 } };
  const { link, all } = await world.room(server, ['alice', 'bob', 'carol'], {
    alice: quick,
    bob: quick,
    carol: { timing: { aloneRejoinMs: 500, joinTimeoutMs: 4_000 }, interceptor: relay },
  });
  const [alice, , carol] = all;
  st.attack = true;
  st.inject!(encodeFrame({ v: 1, t: 'presence', room: roomOf(link), count: 1, others: 2 }));
  await until(() => alice!.of('info').some((e) => /carol was re-admitted/.test(e.message)), 'carol re-admitted from the replay', 25_000);
  st.attack = false; // the relay is honest from here on
  st.inject!(encodeFrame({ v: 1, t: 'presence', room: roomOf(link), count: 3 }));
  await sleep(6_000);
  await carol!.client.command('carol after the replay');
  const heard = await until(() => alice!.texts().includes('carol after the replay'), 'alice reads carol', 15_000).then(() => true, () => false);
  expect(carol!.of('left')).toEqual([]);
  expect(heard).toBe(true);
  // It asked again at once (the leaf was not its own attempt's), not after waiting out a Welcome that could not come.
  expect(carol!.of('info').filter((e) => /asking once more/.test(e.message))).toEqual([]);
}, 90_000);

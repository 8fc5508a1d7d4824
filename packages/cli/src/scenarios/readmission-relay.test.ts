/**
 * Re-admission against a relay that fakes presence (found by an attacker review):
 * - it told a member "alone" over and over: every attempt was answered, each reset the backoff,
 *   and the room committed a re-admission 8 to 16 times a minute;
 * - it told a member "alone", let its re-admission land, dropped the Welcome, then said "with
 *   everyone": the member's leaf was replaced, nothing asked again, and its room looked joined
 *   while nothing it wrote could be sent.
 * Expected: the backoff holds across re-admissions and short "not alone" spells; a member whose
 * own re-admission landed without its Welcome is out of the group (messages wait) and, if the
 * Welcome never comes, is told and leaves the room (as after absence).
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

it('aMemberWhoseReadmissionLandsButWhoseWelcomeTheRelayDropsIsNotLeftSilentlyOutOfTheRoom', async () => {
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
  state.presence = 'crowd'; // the relay now says she is with everyone
  fake(state, roomOf(link));
  await sleep(7_000); // past her joinTimeoutMs
  await carol!.client.command('carol after the attack');
  const heard = await until(() => alice!.texts().includes('carol after the attack'), 'alice reads carol', 15_000).then(() => true, () => false);
  // Either she is heard again, or her room ends (`left`, with E_JOIN_TIMEOUT, as after a failed
  // re-admission when absent): not a room that looks joined while nothing it writes can be sent.
  const told = carol!.of('left').length > 0 && carol!.of('error').some((e) => e.code === 'E_JOIN_TIMEOUT');
  expect(heard || told).toBe(true);
  expect(carol!.of('error').filter((e) => e.code === 'E_USAGE')).toEqual([]);
}, 90_000);

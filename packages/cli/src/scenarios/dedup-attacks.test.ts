/**
 * Issue 12, attack 6: message dedup by id alone, across senders. A message id is chosen by its
 * sender and travels readable (the `pub` header, MLS authenticated data), so a member that sees
 * another's message can send one of its own under the same id; a member that gets the copy first
 * (the network or the relay delays the genuine one to it) dropped the genuine message as a
 * duplicate, and showed the attacker's text in its place. Dedup is now by (sender identity, id).
 *
 * Real relay, real clients: mallory is a member whose client is manipulated (it sends under an
 * id of its choosing); bob's transport is tapped (it holds frames and delivers them in the order
 * the attack needs).
 */
import { afterEach, expect, it } from 'vitest';
import type { RelayHeader } from '@safehouse/core/protocol';
import { World, marker, roomOf, until, type Interceptor, type Member } from '../testing/members.js';

const world = new World();
afterEach(() => world.end());

/** The attacker's own client code: `Room.send` under an id it picked (the room's internals). */
type Internals = { rooms: Map<string, { send(payload: { t: 'text'; text: string }, options: { id: string }): Promise<{ ok: boolean }> }> };

function sendUnder(m: Member, room: string, text: string, id: string): Promise<{ ok: boolean }> {
  return (m.client as unknown as Internals).rooms.get(room)!.send({ t: 'text', text }, { id });
}

/** A tap on bob's line: while `holding`, application messages wait until the test delivers them. */
function holdingTap(): { interceptor: Interceptor; held: Array<{ header: RelayHeader; deliver(): void }>; hold(on: boolean): void } {
  const held: Array<{ header: RelayHeader; deliver(): void }> = [];
  let holding = false;
  return {
    held,
    hold: (on) => void (holding = on),
    interceptor: {
      inbound: (header, bytes, inject) => {
        if (!holding || header.t !== 'msg' || header.kind !== 'app') return 'pass';
        const copy = bytes.slice();
        held.push({ header, deliver: () => inject(copy) });
        return 'drop';
      },
    },
  };
}

it('aMemberReusingAnotherMembersMessageIdCannotSuppressTheGenuineMessage', async () => {
  const server = await world.server();
  const tap = holdingTap();
  const { link, all } = await world.room(server, ['alice', 'mallory', 'bob'], { bob: { interceptor: tap.interceptor } });
  const [alice, mallory, bob] = all as [Member, Member, Member];
  const room = roomOf(link);

  tap.hold(true);
  await alice.client.command('the genuine message');
  const id = alice.of('message').find((m) => m.self && m.text === 'the genuine message')!.id;
  // mallory has it (and its id); bob's copy is held on the way.
  await until(() => mallory.texts().includes('the genuine message'), 'the genuine message at mallory');
  expect((await sendUnder(mallory, room, 'a squatted copy', id)).ok).toBe(true);
  await until(() => tap.held.length === 2, 'both frames held at bob');
  // bob gets mallory's message first, then the genuine one.
  tap.hold(false);
  tap.held[1]!.deliver();
  tap.held[0]!.deliver();

  await marker(alice, bob);
  expect(bob.texts()).toContain('the genuine message');
  expect(bob.received().find((m) => m.text === 'the genuine message')!.from).toBe('alice');
  // mallory's own message shows as mallory's, never as alice's.
  expect(bob.received().filter((m) => m.text === 'a squatted copy').map((m) => m.from)).toEqual(['mallory']);
  // and nothing shows twice: the genuine message delivered again is still a duplicate.
  expect(bob.texts().filter((t) => t === 'the genuine message')).toHaveLength(1);
});

it('aSquattedIdDoesNotPushTheGenuineMessageOutOfTheFutureEpochBuffer', async () => {
  const server = await world.server();
  const tap = holdingTap();
  let holdCommits = false;
  const commits: Array<() => void> = [];
  const interceptor: Interceptor = {
    inbound: (header, bytes, inject) => {
      if (holdCommits && header.t === 'msg' && header.kind === 'commit') {
        const copy = bytes.slice();
        commits.push(() => inject(copy));
        return 'drop';
      }
      return tap.interceptor.inbound!(header, bytes, inject);
    },
  };
  const { link, all } = await world.room(server, ['alice', 'mallory', 'bob'], { bob: { interceptor } });
  const [alice, mallory, bob] = all as [Member, Member, Member];
  const room = roomOf(link);
  // bob falls one epoch behind: the commit that admits carol is held on his line.
  holdCommits = true;
  const carol = await world.member('carol', link);
  await until(() => carol.of('joined').length === 1 && mallory.of('member-joined').some((e) => e.name === 'carol'), 'carol in, at mallory');
  await until(() => commits.length === 1, 'the commit held at bob');

  tap.hold(true);
  await alice.client.command('the genuine message');
  const id = alice.of('message').find((m) => m.self && m.text === 'the genuine message')!.id;
  await until(() => mallory.texts().includes('the genuine message'), 'the genuine message at mallory');
  expect((await sendUnder(mallory, room, 'a squatted copy', id)).ok).toBe(true);
  await until(() => tap.held.length === 2, 'both frames held at bob');
  tap.hold(false);
  holdCommits = false;
  // Both reach bob before the commit of their epoch: kept for it, mallory's first.
  tap.held[1]!.deliver();
  tap.held[0]!.deliver();
  commits[0]!();

  await marker(alice, bob);
  expect(bob.received().filter((m) => m.text === 'the genuine message').map((m) => m.from)).toEqual(['alice']);
  expect(bob.received().filter((m) => m.text === 'a squatted copy').map((m) => m.from)).toEqual(['mallory']);
});

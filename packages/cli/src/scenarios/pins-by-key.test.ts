/**
 * Key pins judged per (name, key), with real clients on the real relay (issue 12, attack 3;
 * docs/security.md "Swap a member's key"). "Verified" belongs to the key the user compared,
 * never to the name: an impostor under a verified member's name stays blocked however often
 * the genuine key is seen again, in any room.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { marker, roomOf, until, World, type Member } from '../testing/members.js';

let world: World;
afterEach(() => world?.end());

/** The `users` list `m` shows for its current room. */
async function users(m: Member): Promise<{ name: string; verified: boolean; fingerprint: string }[]> {
  const before = m.of('users').length;
  await m.client.command('/users');
  await until(() => m.of('users').length > before, `the members at ${m.name}`);
  return m.of('users').at(-1)!.users;
}

describe('pins per (name, key)', () => {
  // bob verifies alice (key K1) in a first room. In a second room, an impostor joins as
  // "alice" with its own key K2: bob is warned and that room is blocked. Then the genuine alice
  // shows K1 again (bob joins a third room of hers). Before the fix, pins were per name: K1 seen
  // again lifted the block, and /users in the second room marked the impostor verified.
  it('aSecondAliceInAnotherRoomStaysBlockedWhenTheVerifiedAliceIsSeenAgain', { timeout: 90_000 }, async () => {
    world = new World();
    const server = await world.server();
    const { all } = await world.room(server, ['alice', 'bob']);
    const [alice, bob] = all as [Member, Member];
    await bob.client.command('/verify alice');
    await until(() => bob.of('safety-number').some((e) => e.name === 'alice' && e.verified), 'bob verifies alice');
    const k1 = (await users(bob)).find((u) => u.name === 'alice')!.fingerprint;

    // A second room (carol's), which bob joins; then the impostor, under "alice", with another key.
    const carol = await world.member('carol', server.url);
    await until(() => carol.of('invite').length === 1, 'a link to the second room');
    const second = carol.of('invite')[0]!.link;
    await bob.client.command(`/join ${second}`);
    await until(() => bob.of('joined').length === 2, 'bob in the second room');
    const impostor = await world.member('alice', second);
    await until(() => impostor.of('joined').length === 1, 'the impostor in the second room');
    await until(() => bob.of('key-changed').some((e) => e.room === roomOf(second) && e.name === 'alice'), 'bob warned of the changed key');

    // The genuine alice's key seen again: bob joins a third room, hers.
    await alice.client.command('/room create third');
    await until(() => alice.of('invite').length === 2, 'a link to the third room');
    await bob.client.command(`/join ${alice.of('invite')[1]!.link}`);
    await until(() => bob.of('joined').length === 3, 'bob in the third room');
    expect((await users(bob)).find((u) => u.name === 'alice')).toMatchObject({ fingerprint: k1, verified: true });

    // Back in the second room: the impostor is still blocked, and not shown as verified.
    await bob.client.command(`/switch ${roomOf(second)}`);
    await until(() => bob.of('switched').some((e) => e.room === roomOf(second)), 'bob back in the second room');
    const shown = (await users(bob)).find((u) => u.name === 'alice')!;
    expect(shown.fingerprint).not.toBe(k1);
    expect(shown.verified).toBe(false);
    const errors = bob.of('error').length;
    await bob.client.command('for alice only');
    await until(() => bob.of('error').length > errors, 'the send refused');
    expect(bob.of('error').at(-1)).toMatchObject({ code: 'E_MEMBER_BLOCKED', room: roomOf(second) });
    // The user compares safety numbers with this key: only then does the room unblock.
    await bob.client.command('/verify alice');
    await marker(bob, carol);
    expect(carol.texts()).not.toContain('for alice only');
    await until(() => impostor.texts().length > 0, 'the impostor gets the marker');
  });
});

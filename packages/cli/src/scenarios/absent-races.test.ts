/**
 * Races around the absence rule (docs/protocol.md "Absent members"), with real clients on the
 * real relay: the inviter a re-admission named is removed before the Welcome comes; a leave is
 * proposed just as the absent are removed. Both once split or locked out a member.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createE2ee } from '@safehouse/core/e2ee';
import { parseInvite } from '@safehouse/core/protocol';
import { absentCommit, capturing, publish, tapped } from '../testing/attacker.js';
import { marker, roomOf, sleep, switchable, until, World, type Member } from '../testing/members.js';

const PATIENT = { aliveEveryMs: 150, absentAfterMs: 600_000, rankDelayMs: 300, joinTimeoutMs: 20_000, refusalGraceMs: 1_000 };

let world: World;
afterEach(() => world?.end());

describe('absence races', () => {
  it('removingTheReadmissionsInviterDoesNotKeepAMemberOut', { timeout: 90_000 }, async () => {
    world = new World();
    const server = await world.server();
    const tap = tapped({});
    const cap = capturing();
    const honest = { timing: { ...PATIENT, batchWindowMs: 1_000 } };
    const { link, all } = await world.room(server, ['alice', 'bob', 'carol', 'mallory', 'dave'], {
      alice: honest,
      bob: honest,
      carol: { timing: { ...PATIENT, joinTimeoutMs: 10_000 } },
      mallory: { timing: PATIENT, e2ee: cap.e2ee, transport: tap.transport },
      dave: honest,
    });
    const [alice, bob, carol, , dave] = all as [Member, Member, Member, Member, Member];
    const room = roomOf(link);
    const session = cap.sessions.at(-1)!;
    await alice.client.command('before');
    await until(() => carol.texts().includes('before'), 'carol in the room');
    // mallory removes carol as absent; carol's re-admission names the admin, alice, whom
    // mallory removes as absent too, before an honest member re-admits carol.
    await absentCommit(session, room, (b) => tap.send(b), ['carol']);
    await absentCommit(session, room, (b) => tap.send(b), ['alice']);
    await until(() => carol.of('info').some((e) => /asking to be re-admitted/.test(e.message)), 'carol asks to be re-admitted');
    await carol.client.command('carol writes while being re-admitted');
    await until(() => carol.of('info').some((e) => /re-admitted to/.test(e.message)), 'carol re-admitted', 30_000);
    await until(() => bob.texts().includes('carol writes while being re-admitted'), 'what carol wrote meanwhile', 20_000);
    await bob.client.command('after');
    await until(() => carol.texts().includes('after') && dave.texts().includes('after'), 'carol reads the room again', 20_000);
    expect(carol.of('left')).toEqual([]);
  });

  it('anAbsenceRemovalWithALeavePendingIsAppliedByEveryone (the leave counts against the limit)', { timeout: 90_000 }, async () => {
    world = new World();
    const server = await world.server();
    const T = { aliveEveryMs: 150, absentAfterMs: 1_500, rankDelayMs: 3_000, joinTimeoutMs: 20_000, refusalGraceMs: 1_000 };
    const aLine = switchable();
    const eLine = switchable();
    const { all } = await world.room(server, ['alice', 'bob', 'carol', 'dave', 'erin'], {
      alice: { timing: T, transport: aLine.transport },
      bob: { timing: T },
      carol: { timing: T },
      dave: { timing: T },
      erin: { timing: T, transport: eLine.transport },
    });
    const [, bob, carol, dave] = all as [Member, Member, Member, Member, Member];
    await sleep(500);
    aLine.offline();
    eLine.offline();
    // carol leaves just before the grace runs out: bob's removal of the absent comes while her
    // leave is pending, and carries it by reference.
    await sleep(T.absentAfterMs - 400);
    void carol.client.command('/leave');
    await until(() => dave.of('member-left').some((e) => e.name === 'carol'), 'carol gone at dave', 30_000);
    await until(() => ['alice', 'erin'].every((n) => dave.of('member-left').some((e) => e.name === n)), 'the absent gone at dave', 30_000);
    await bob.client.command('bob after');
    await until(() => dave.texts().includes('bob after'), 'dave and bob in one epoch', 20_000);
    expect(dave.of('error').filter((e) => e.code === 'E_FORBIDDEN')).toEqual([]);
    expect(bob.of('error').filter((e) => e.code === 'E_FORBIDDEN')).toEqual([]);
  });

  it('aLookAlikeAddedInTheRemovedMembersPlaceDoesNotKeepItOut, and is flagged', { timeout: 90_000 }, async () => {
    world = new World();
    const server = await world.server();
    const tap = tapped({});
    const cap = capturing();
    const { link, all } = await world.room(server, ['alice', 'bob', 'mallory'], {
      alice: { timing: PATIENT },
      bob: { timing: PATIENT },
      mallory: { timing: PATIENT, e2ee: cap.e2ee, transport: tap.transport },
    });
    const [alice, bob] = all as [Member, Member, Member];
    const inv = parseInvite(link);
    if (!inv.ok || !inv.invite.room) throw new Error('a room link');
    const { id: room, secret } = inv.invite.room;
    const session = cap.sessions.at(-1)!;
    await marker(alice, bob);
    // mallory's own code: the admin removed as absent, and at once a puppet "Alice" added.
    await absentCommit(session, room, (b) => tap.send(b), ['alice']);
    const puppet = createE2ee();
    const pj = await puppet.createJoinRequest(await puppet.createIdentity(), 'Alice', room, secret);
    await publish(session, room, (b) => tap.send(b), await session.add([puppet.parseJoinRequest(pj.request)!], secret));
    await until(() => bob.of('error').some((e) => e.code === 'E_NAME_TAKEN' && /looks like the name of another member/.test(e.message)), 'the puppet flagged at bob', 20_000);
    await until(() => alice.of('info').some((e) => /re-admitted to/.test(e.message)), 'alice re-admitted', 30_000);
    expect(alice.of('left')).toEqual([]);
    await marker(alice, bob);
    // alice is still the room's admin: her removal of mallory lands.
    const [out] = alice.client.remove((m) => m.name === 'mallory', { keepLink: true });
    expect(await out!.landed).toBe(true);
  });

  it('aCommitInFlightWhenItsAuthorIsRemovedAsAbsentDoesNotWedgeItsCommitter: the admin kicks after', { timeout: 90_000 }, async () => {
    world = new World();
    const server = await world.server();
    let hold = false;
    let dropAlive = false;
    const held: Uint8Array[] = [];
    const aliceTap = tapped({
      outbound: (h, bytes) => {
        if (hold && h.t === 'pub' && h.kind === 'commit') {
          held.push(bytes.slice());
          return 'drop';
        }
        return dropAlive && h.t === 'pub' && h.kind === 'alive' ? 'drop' : 'pass';
      },
    });
    const QUICK = { ...PATIENT, absentAfterMs: 1_200 };
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], {
      alice: { timing: PATIENT, transport: aliceTap.transport },
      bob: { timing: QUICK },
      carol: { timing: PATIENT },
    });
    const [alice, bob, carol] = all as [Member, Member, Member];
    await marker(alice, bob);
    // The relay sits on alice's kick of carol and drops her signs of life until bob removes her.
    hold = true;
    dropAlive = true;
    const [kick] = alice.client.remove((m) => m.name === 'carol', { keepLink: true });
    await until(() => held.length > 0, "alice's kick on the wire");
    await until(() => alice.of('info').some((e) => /as absent/.test(e.message)), 'alice removed as absent by bob', 20_000);
    dropAlive = false;
    hold = false;
    for (const b of held) aliceTap.send(b); // refused as stale now: bob's commit won the epoch
    await until(() => alice.of('info').some((e) => /re-admitted to/.test(e.message)), 'alice re-admitted', 20_000);
    // The kick, aimed anew at carol in the new tree, lands.
    expect(await kick!.landed).toBe(true);
    await until(() => bob.of('member-left').some((e) => e.name === 'carol' && e.by === 'alice'), 'bob applies the kick');
    void carol;
  });
});

/**
 * Absent members (docs/protocol.md "Absent members"), with real clients on the real relay: a
 * member whose device died is removed after the grace by an online member, admin or not; a
 * member removed as absent while it was online (its signs of life dropped on the way) is
 * re-admitted at once, and what it wrote meanwhile is delivered; a relay outage longer than the
 * grace removes nobody; a member abusing the rule cannot keep anyone out, and is called out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { names } from '../testing/attacker.js';
import { marker, sleep, switchable, until, World, type Member } from '../testing/members.js';

/** Signs of life every 150 ms, absent after 1.2 s: the real rule, at test speed. */
const QUICK = { aliveEveryMs: 150, absentAfterMs: 1_200, rankDelayMs: 300, joinTimeoutMs: 20_000, refusalGraceMs: 1_000 };

let world: World;
afterEach(() => world?.end());

describe('absent members', () => {
  it('aDeadMembersLeafIsRemovedAfterTheGrace, by an online member, and only then', async () => {
    world = new World();
    const server = await world.server();
    const carolLine = switchable();
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], {
      alice: { timing: QUICK },
      bob: { timing: QUICK },
      carol: { timing: QUICK, transport: carolLine.transport },
    });
    const [alice, bob] = all as [Member, Member, Member];
    const gone = Date.now();
    carolLine.offline(); // carol's device is gone: no leave, no sign of life
    await until(() => [alice, bob].every((m) => m.of('member-left').some((e) => e.name === 'carol')), 'carol removed as absent', 15_000);
    const after = Date.now() - gone;
    expect(after).toBeGreaterThanOrEqual(QUICK.absentAfterMs - 200); // not before the grace
    for (const m of [alice, bob]) expect(m.of('member-left').find((e) => e.name === 'carol')).toMatchObject({ absent: true, by: 'alice' });
    expect(await names(alice)).toEqual(['alice', 'bob']);
    expect(await names(bob)).toEqual(['alice', 'bob']);
    await marker(bob, alice);
  });

  it('aDeadAdminIsRemovedByAMemberWhoIsNot, and the others follow (no fork)', async () => {
    world = new World();
    const server = await world.server();
    const aliceLine = switchable();
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], {
      alice: { timing: QUICK, transport: aliceLine.transport },
      bob: { timing: QUICK },
      carol: { timing: QUICK },
    });
    const [, bob, carol] = all as [Member, Member, Member];
    aliceLine.offline();
    await until(() => [bob, carol].every((m) => m.of('member-left').some((e) => e.name === 'alice')), 'alice removed as absent', 15_000);
    expect(carol.of('member-left').find((e) => e.name === 'alice')).toMatchObject({ absent: true, by: 'bob' });
    expect(carol.of('error').filter((e) => e.code === 'E_FORBIDDEN')).toEqual([]); // nobody refused it
    await marker(carol, bob);
    await marker(bob, carol);
    expect(await names(bob)).toEqual(['bob', 'carol']);
  });

  it('anOnlineMemberRemovedAsAbsentIsReadmitted: its signs of life were dropped; what it wrote meanwhile arrives', async () => {
    world = new World();
    const server = await world.server();
    let dropAlive = false;
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], {
      alice: { timing: QUICK },
      bob: { timing: QUICK },
      carol: {
        timing: QUICK,
        // A relay (or network) that drops carol's signs of life: to the others she looks gone.
        interceptor: { outbound: (h) => (dropAlive && h.t === 'pub' && h.kind === 'alive' ? 'drop' : 'pass') },
      },
    });
    const [alice, bob, carol] = all as [Member, Member, Member];
    dropAlive = true;
    await until(() => carol.of('info').some((e) => /as absent/.test(e.message)), 'carol told she was removed as absent', 15_000);
    dropAlive = false;
    await carol.client.command('written while out');
    await until(() => alice.of('member-joined').filter((e) => e.name === 'carol').length >= 1, 'carol re-admitted', 20_000);
    await until(() => carol.of('info').some((e) => /re-admitted/.test(e.message)), 'carol knows she is back');
    await until(() => alice.texts().includes('written while out') && bob.texts().includes('written while out'), 'what carol wrote meanwhile');
    await marker(carol, alice);
    await marker(alice, carol);
    expect(carol.of('left')).toEqual([]); // never out of the room as far as her UI goes
    expect(await names(alice)).toEqual(['alice', 'bob', 'carol']);
  });

  it('aRelayOutageLongerThanTheGraceRemovesNobody', async () => {
    world = new World();
    const server = await world.server();
    const lines = [switchable(), switchable(), switchable()];
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], {
      alice: { timing: QUICK, transport: lines[0]!.transport },
      bob: { timing: QUICK, transport: lines[1]!.transport },
      carol: { timing: QUICK, transport: lines[2]!.transport },
    });
    const [alice, bob, carol] = all as [Member, Member, Member];
    for (const l of lines) l.offline();
    await sleep(QUICK.absentAfterMs * 2.5);
    // Back seconds apart, as after a relay restart.
    for (const l of lines) {
      l.online();
      await sleep(300);
    }
    await marker(carol, alice);
    await marker(alice, bob);
    await sleep(QUICK.absentAfterMs * 1.5); // more than a grace after everyone is back
    await marker(bob, carol);
    for (const m of all) expect(m.of('member-left')).toEqual([]);
    expect(await names(carol)).toEqual(['alice', 'bob', 'carol']);
  });

  it('aMemberAbusingTheRuleCannotKeepAnyoneOut, and is called out by those who heard the victim', async () => {
    world = new World();
    const server = await world.server();
    const slow = { ...QUICK, aliveEveryMs: 100_000, absentAfterMs: 100_000 };
    // bob's client removes anyone silent for 1.5 s: a member bending the rule.
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], { alice: { timing: slow }, bob: { timing: { ...QUICK, aliveEveryMs: 100_000, absentAfterMs: 1_500 } }, carol: { timing: slow } });
    const [alice, bob, carol] = all as [Member, Member, Member];
    let talking = true;
    const chatter = (async () => {
      for (let i = 0; talking; i++) {
        await alice.client.command(`alice ${i}`);
        await sleep(250);
      }
    })();
    await carol.client.command('carol was here');
    await until(() => alice.texts().includes('carol was here'), 'carol heard');
    await until(() => alice.of('member-left').some((e) => e.name === 'carol' && e.absent === true && e.by === 'bob'), 'bob removes carol as absent', 15_000);
    expect(alice.of('info').some((e) => /bob removed carol .* as absent, but this device heard from carol (\d+(ms|[dhms]) ?)+ ago/.test(e.message))).toBe(true);
    await until(() => alice.of('member-joined').some((e) => e.name === 'carol'), 'carol back', 20_000);
    talking = false;
    await chatter;
    await carol.client.command('still here');
    await until(() => alice.texts().includes('still here'), 'carol reads and writes again', 15_000);
    void bob;
  });

  it('aSignOfLifeIsNotShownAndTravelsAsKindAlive', async () => {
    world = new World();
    const server = await world.server();
    const kinds: string[] = [];
    const { all } = await world.room(server, ['alice', 'bob'], {
      alice: { timing: QUICK, interceptor: { outbound: (h) => (h.t === 'pub' && kinds.push(h.kind), 'pass') } },
      bob: { timing: QUICK },
    });
    const [alice, bob] = all as [Member, Member];
    await until(() => kinds.filter((k) => k === 'alive').length >= 3, 'signs of life');
    await marker(alice, bob);
    expect(bob.texts()).toHaveLength(1); // the marker only
    expect(bob.of('error')).toEqual([]);
  });
});

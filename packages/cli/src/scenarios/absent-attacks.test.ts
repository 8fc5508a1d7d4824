/**
 * The absence rule attacked (docs/protocol.md "Absent members"), with real clients on the real
 * relay: a member or a relay trying to use it to push members out, to take over the room, or
 * to bring back a device the admin banned. Each test plays the attack and asserts it fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createE2ee, type JoinRequest } from '@safehouse/core/e2ee';
import { encodeFrame, parseInvite, randomId } from '@safehouse/core/protocol';
import { names, tapped } from '../testing/attacker.js';
import { marker, sleep, switchable, until, World, type Interceptor, type Member } from '../testing/members.js';

const QUICK = { aliveEveryMs: 150, absentAfterMs: 1_200, rankDelayMs: 300, joinTimeoutMs: 20_000, refusalGraceMs: 1_000 };
/** Members that never remove anyone themselves in the test's time (their grace is long). */
const PATIENT = { ...QUICK, absentAfterMs: 600_000 };

let world: World;
afterEach(() => world?.end());

describe('the absence rule under attack', () => {
  it('aMemberWhoHearsNobodyRemovesNobody: dropping everything it receives does not make the others absent', async () => {
    world = new World();
    const server = await world.server();
    const deaf = { on: false };
    const { all } = await world.room(server, ['alice', 'bob', 'mallory'], {
      alice: { timing: PATIENT },
      bob: { timing: PATIENT },
      // mallory's own grace is short, and she drops every message she receives: to her, everyone is silent.
      mallory: { timing: { ...QUICK, absentAfterMs: 1_500 }, interceptor: { inbound: (h) => (deaf.on && h.t === 'msg' && h.kind !== 'commit' ? 'drop' : 'pass') } },
    });
    const [alice, bob] = all as [Member, Member, Member];
    deaf.on = true;
    for (let i = 0; i < 16; i++) {
      await alice.client.command(`alice ${i}`);
      await sleep(250);
    }
    await marker(alice, bob);
    for (const m of all) expect(m.of('member-left')).toEqual([]);
    expect(await names(bob)).toEqual(['alice', 'bob', 'mallory']);
  });

  it('aRelayThatStopsPassingMessagesOnRemovesNobody (the connections stay up)', async () => {
    world = new World();
    const server = await world.server();
    const stall = { on: false };
    const hook: Interceptor = { inbound: (h) => (stall.on && h.t === 'msg' && h.kind !== 'commit' ? 'drop' : 'pass') };
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], {
      alice: { timing: QUICK, interceptor: hook },
      bob: { timing: QUICK, interceptor: hook },
      carol: { timing: QUICK, interceptor: hook },
    });
    const [alice, bob, carol] = all as [Member, Member, Member];
    await marker(alice, carol);
    stall.on = true; // pings, acks, presence and commits flow; no message or sign of life does
    await sleep(QUICK.absentAfterMs * 4);
    stall.on = false;
    await marker(carol, alice);
    await marker(bob, carol);
    for (const m of all) expect(m.of('member-left')).toEqual([]);
  });

  it('aReadmissionAnsweredWithAGroupOfAnotherPolicyIsRefused, and the genuine one follows', async () => {
    world = new World();
    const server = await world.server();
    const e2ee = createE2ee();
    const identity = await e2ee.createIdentity();
    let dropAlive = false;
    const caught: Array<{ joinId: string; request: JoinRequest }> = [];
    // Mallory's own code opens every join request with the link's secret (she is a link holder).
    const link0: { secret?: Uint8Array } = {};
    const tap = tapped({
      inbound: (h, bytes) => {
        if (h.t === 'join' && link0.secret) {
          const hl = ((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0);
          void e2ee.openJoinRequest(bytes.slice(2 + hl), h.room, link0.secret).then((request) => {
            if (request?.name === 'alice') caught.push({ joinId: h.id, request });
          });
        }
        return 'pass';
      },
    });
    const { link, all } = await world.room(server, ['alice', 'bob', 'mallory'], {
      // alice's signs of life are lost: bob removes her as absent; her re-admission names
      // mallory (not the remover) as inviter, and mallory answers first.
      alice: { timing: PATIENT, interceptor: { outbound: (h) => (dropAlive && h.t === 'pub' && h.kind === 'alive' ? 'drop' : 'pass') } },
      bob: { timing: { ...QUICK, batchWindowMs: 2_500 } },
      mallory: { timing: PATIENT, identity, e2ee, transport: tap.transport },
    });
    const [alice, bob, mallory] = all as [Member, Member, Member];
    const invite = parseInvite(link);
    if (!invite.ok || !invite.invite.room) throw new Error('a room link');
    const { id: roomId, secret } = invite.invite.room;
    link0.secret = secret;
    dropAlive = true;
    await until(() => caught.length > 0, "alice's re-admission request", 20_000);
    dropAlive = false;
    // A group of mallory's own: the room's id and invite secret, with mallory as its admin.
    const fake = await e2ee.createGroup(identity, 'mallory', roomId, { secret });
    const p = await fake.add([caught[0]!.request], secret);
    await fake.confirm(p);
    tap.send(encodeFrame({ v: 1, t: 'welcome', room: roomId, id: randomId(), to: caught[0]!.joinId }, new Uint8Array([0x01, ...p.welcome!])));
    await until(() => alice.of('error').some((e) => e.code === 'E_FORBIDDEN' && /does not continue the room/.test(e.message)), 'the look-alike refused', 10_000);
    await until(() => alice.of('info').some((e) => /re-admitted to/.test(e.message)), 'alice re-admitted by bob', 20_000);
    await marker(alice, bob);
    await marker(mallory, alice);
    expect(await names(bob)).toEqual(['alice', 'bob', 'mallory']);
    // alice is still the admin of the real room: her removal of mallory lands, and bob applies it.
    const [out] = alice.client.remove((m) => m.name === 'mallory', { keepLink: true });
    expect(await out!.landed).toBe(true);
    await until(() => bob.of('member-left').some((e) => e.name === 'mallory' && e.by === 'alice'), 'bob applies the removal by the admin');
  });

  it('aLostDeviceRemovedAsAbsentCanStillBeBanned: the link changes, and the device is not admitted when it comes back', { timeout: 60_000 }, async () => {
    world = new World();
    const server = await world.server();
    const carolLine = switchable();
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], {
      alice: { timing: QUICK },
      bob: { timing: QUICK },
      // A re-admission is ended by no refusal (they are unauthenticated), only by its timeout.
      carol: { timing: { ...QUICK, joinTimeoutMs: 6_000 }, transport: carolLine.transport },
    });
    const [alice, bob, carol] = all as [Member, Member, Member];
    carolLine.offline(); // the laptop is stolen
    await until(() => alice.of('member-left').some((e) => e.name === 'carol' && e.absent === true), 'carol removed as absent', 15_000);
    const picked = alice.client.remove((m) => m.name === 'carol', { ban: true });
    expect(picked.map((p) => p.name)).toEqual(['carol']);
    expect(await picked[0]!.landed).toBe(true);
    await until(() => alice.of('invite').length === 2 && bob.of('invite').length >= 1, 'the new link');
    carolLine.online(); // the thief opens it
    await until(() => carol.of('left').length === 1, 'the device refused', 30_000);
    expect(carol.of('left')[0]).toMatchObject({ reason: 'removed' });
    await marker(bob, alice);
    expect(carol.texts()).not.toContain(bob.of('message').filter((m) => m.self).at(-1)!.text);
    expect(await names(alice)).toEqual(['alice', 'bob']);
  });

  it('aBanThatLosesTheRaceToAnAbsenceRemovalStillChangesTheLink, and the banned member stays out', async () => {
    world = new World();
    const server = await world.server();
    let dropCarolAlive = false;
    let holdAliceCommits = false;
    const held: Uint8Array[] = [];
    const aliceTap = tapped({
      outbound: (h, bytes) => {
        if (holdAliceCommits && h.t === 'pub' && h.kind === 'commit') {
          held.push(bytes.slice());
          return 'drop';
        }
        return 'pass';
      },
    });
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], {
      alice: { timing: PATIENT, transport: aliceTap.transport },
      bob: { timing: QUICK },
      carol: { timing: QUICK, interceptor: { outbound: (h) => (dropCarolAlive && h.t === 'pub' && h.kind === 'alive' ? 'drop' : 'pass') } },
    });
    const [alice, bob, carol] = all as [Member, Member, Member];
    await marker(carol, alice);
    // A relay colluding with carol drops her signs of life and holds the admin's ban back.
    holdAliceCommits = true;
    dropCarolAlive = true;
    const [ban] = alice.client.remove((m) => m.name === 'carol', { ban: true });
    await until(() => held.length > 0, "alice's ban on the wire");
    await until(() => alice.of('member-left').some((e) => e.name === 'carol' && e.absent === true && e.by === 'bob'), 'bob removes carol as absent first', 20_000);
    dropCarolAlive = false;
    holdAliceCommits = false;
    for (const b of held) aliceTap.send(b); // now refused as stale: bob's commit won the epoch
    expect(await ban!.landed).toBe(true);
    await until(() => alice.of('invite').length === 2, 'the link changed');
    await sleep(2_000); // carol's re-admission, if any, had its chance
    await marker(bob, alice);
    expect(await names(alice)).toEqual(['alice', 'bob']);
    expect(await names(bob)).toEqual(['alice', 'bob']);
    const last = bob.of('message').filter((m) => m.self).at(-1)!.text;
    expect(carol.texts()).not.toContain(last);
  });
});

/**
 * The absence rule's re-admissions attacked (docs/protocol.md "Absent members"), with real
 * clients on the real relay: a forged refusal, a renamed re-admission committed by an
 * accomplice, a message written offline by a member removed meanwhile, a name held for a
 * puppet. Each test plays the attack and asserts it fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createE2ee } from '@safehouse/core/e2ee';
import { decodeRelayFrame, encodeFrame, parseInvite, randomId } from '@safehouse/core/protocol';
import { capturing, publish, refusal, tapped } from '../testing/attacker.js';
import { marker, sleep, switchable, until, World, type Member } from '../testing/members.js';

let world: World;
afterEach(() => world?.end());


describe('attack round 4', () => {
  // A member (not an admin) lowest in leaf order removes bob as absent and answers his
  // re-admission with a refusal E_LINK_REVOKED (unauthenticated): the honest member acts only
  // after rankDelayMs (2 s) > refusalGraceMs (1.5 s), so bob gives up and is out of the room.
  it('aForgedRefusalDoesNotEndAReadmission', { timeout: 90_000 }, async () => {
    world = new World();
    const server = await world.server();
    const DEFAULTISH = { aliveEveryMs: 150, absentAfterMs: 600_000, rankDelayMs: 2_000, refusalGraceMs: 1_500, batchWindowMs: 300, joinTimeoutMs: 60_000 };
    const joinIds: string[] = [];
    let room = '';
    const tap = tapped({
      inbound: (h) => {
        // mallory's own code: answers every join request with a refusal, and never admits.
        if (h.t === 'join' && room !== '') {
          joinIds.push(h.id);
          tap.send(encodeFrame({ v: 1, t: 'welcome', room, id: randomId(), to: h.id }, refusal('E_LINK_REVOKED')));
          return 'drop';
        }
        return 'pass';
      },
    });
    const cap = capturing();
    const { link, all } = await world.room(server, ['alice', 'mallory', 'bob', 'carol'], {
      alice: { timing: DEFAULTISH },
      mallory: { timing: DEFAULTISH, e2ee: cap.e2ee, transport: tap.transport },
      bob: { timing: DEFAULTISH },
      carol: { timing: DEFAULTISH },
    });
    const [alice, , bob, carol] = all as [Member, Member, Member, Member];
    const inv = parseInvite(link);
    if (!inv.ok || !inv.invite.room) throw new Error('a room link');
    // The room's creator leaves: mallory is now first in leaf order.
    await alice.client.command('/leave');
    await until(() => carol.of('member-left').some((e) => e.name === 'alice'), 'alice gone');
    await marker(carol, bob);
    const session = cap.sessions.at(-1)!;
    room = inv.invite.room.id;
    const bobLeaf = session.members().find((m) => m.name === 'bob')!.leaf;
    await publish(session, room, (b) => tap.send(b), await session.remove([bobLeaf], { absent: true }));
    await until(() => bob.of('info').some((e) => /asking to be re-admitted/.test(e.message)), 'bob asks to be re-admitted');
    await bob.client.command('bob writes while being re-admitted');
    await until(() => bob.of('left').length > 0 || bob.of('info').some((e) => /re-admitted to/.test(e.message)), 'bob re-admitted or out', 30_000);
    // The property the docs promise: an online member removed as absent comes back.
    expect(bob.of('left')).toEqual([]);
  });

  // A member's accomplice commits its "re-admission" under a look-alike of another member's
  // name: a re-admission must keep its name, so every honest member refuses the commit.
  it('aReadmissionUnderAnotherNameIsRefusedByEveryMember', { timeout: 90_000 }, async () => {
    world = new World();
    const server = await world.server();
    const PATIENT = { aliveEveryMs: 150, absentAfterMs: 600_000, rankDelayMs: 300, joinTimeoutMs: 20_000, refusalGraceMs: 1_000 };
    const cap = capturing();
    const identity = await createE2ee().createIdentity();
    let room = '';
    let secret: Uint8Array = new Uint8Array();
    let done = false;
    // "sock" is mallory's second member (her own code): it commits mallory's "re-admission".
    const tap = tapped({
      inbound: (h, bytes) => {
        if (h.t === 'join' && room !== '') {
          if (!done) {
            done = true;
            const d = decodeRelayFrame(bytes.slice());
            const body = d.ok ? d.body.slice() : new Uint8Array();
            void (async () => {
              const req = (await cap.e2ee.openJoinRequest(body, room, secret))!;
              const session = cap.sessions.at(-1)!;
              const p = await session.add([req], secret);
              await publish(session, room, (b) => tap.send(b), p);
              tap.send(encodeFrame({ v: 1, t: 'welcome', room, id: randomId(), to: h.id }, Uint8Array.of(0x01, ...p.welcome!)));
            })();
          }
          return 'drop';
        }
        return 'pass';
      },
    });
    const { link, all } = await world.room(server, ['alice', 'bob', 'mallory', 'sock'], {
      alice: { timing: PATIENT },
      bob: { timing: PATIENT },
      mallory: { timing: PATIENT, identity },
      sock: { timing: PATIENT, e2ee: cap.e2ee, transport: tap.transport },
    });
    const [alice, bob] = all as [Member, Member, Member, Member];
    const inv = parseInvite(link);
    if (!inv.ok || !inv.invite.room) throw new Error('a room link');
    await marker(alice, bob);
    room = inv.invite.room.id;
    secret = inv.invite.room.secret;
    // mallory's identity on a second device under "aIice" (capital I, a look-alike of alice):
    // honest members refuse it; sock commits it as mallory's re-admission.
    const impostor = await world.member('aIice', link, { identity, timing: { ...PATIENT, refusalGraceMs: 60_000 } });
    await until(() => bob.of('error').some((e) => e.code === 'E_FORBIDDEN' && /sock/.test(e.message)), 'bob refuses the renamed re-admission', 20_000);
    // The members went on without sock's commit: the group it Welcomed the impostor into is off
    // the relay's line (the cohorts most members follow), so its first proof is refused there;
    // if it ever gets in, it is alone with sock.
    await until(() => impostor.of('joined').length === 1 || impostor.of('error').some((e) => e.code === 'E_FORBIDDEN'), 'the impostor refused, or in its own line', 30_000);
    if (impostor.of('joined').length === 1) await impostor.client.command('hi all, alice here on my new laptop');
    await marker(alice, bob);
    expect(bob.texts()).not.toContain('hi all, alice here on my new laptop');
    expect(bob.of('member-joined').some((e) => e.name === 'aIice')).toBe(false);
    expect(alice.of('error').some((e) => e.code === 'E_FORBIDDEN' && /sock/.test(e.message))).toBe(true);
  });

  // A message written while offline, its author removed as absent meanwhile: on reconnect the
  // relay refuses it (not subscribed) after sending the removal from its log; it is encrypted
  // again once its author is re-admitted.
  it('aMessageWrittenOfflineArrivesAfterItsAuthorIsReadmitted', { timeout: 90_000 }, async () => {
    world = new World();
    const server = await world.server();
    const QUICK = { aliveEveryMs: 150, absentAfterMs: 1_500, rankDelayMs: 300, joinTimeoutMs: 20_000, refusalGraceMs: 1_000 };
    const line = switchable();
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], {
      alice: { timing: QUICK },
      bob: { timing: QUICK },
      carol: { timing: QUICK, transport: line.transport },
    });
    const [alice, bob, carol] = all as [Member, Member, Member];
    await marker(alice, carol);
    line.offline();
    await sleep(200);
    await carol.client.command('written while offline');
    await until(() => bob.of('member-left').some((e) => e.name === 'carol' && e.absent === true), 'carol removed as absent', 20_000);
    line.online();
    await until(() => carol.of('info').some((e) => /re-admitted to/.test(e.message)), 'carol re-admitted', 30_000);
    await marker(carol, bob, 'carol after');
    await sleep(2_000);
    expect(bob.texts()).toContain('written while offline');
  });

  // A name squatter: a puppet joins as "carol", goes away, is removed as absent. Its name is
  // held for it for `nameHeldMs` only: after that, the real carol gets in.
  it('aNameHeldForAMemberRemovedAsAbsentIsFreeAfterTheHold', { timeout: 90_000 }, async () => {
    world = new World();
    const server = await world.server();
    const QUICK = { aliveEveryMs: 150, absentAfterMs: 1_500, rankDelayMs: 300, joinTimeoutMs: 20_000, refusalGraceMs: 1_000, nameHeldMs: 5_000 };
    const line = switchable();
    const { link, all } = await world.room(server, ['alice', 'bob', 'mallory', 'carol'], {
      alice: { timing: QUICK },
      bob: { timing: QUICK },
      mallory: { timing: QUICK },
      carol: { timing: QUICK, transport: line.transport },
    });
    const [alice] = all as [Member, Member, Member, Member];
    line.offline();
    await until(() => alice.of('member-left').some((e) => e.name === 'carol' && e.absent === true), 'the puppet removed as absent', 20_000);
    await sleep(10_000);
    const real = await world.member('carol', link, { timing: QUICK });
    await until(() => real.of('joined').length > 0 || real.of('left').length > 0, 'the real carol in or refused', 30_000);
    expect(real.of('joined').length).toBe(1);
  });
});

/**
 * Attacks on direct-message rooms (issue "Private by construction", attack 1), with real clients
 * on the real relay (in-process, real sockets, real MLS). The attacker is a third member of the
 * room the two share: its own client's code (an E2ee that hands it what it decrypts), a raw
 * protocol client of its own, or the inviter's own client adding someone behind the invitee's back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createE2ee } from '@safehouse/core/e2ee';
import { encodeFrame, randomId, toBase64Url } from '@safehouse/core/protocol';
import { World, marker, roomOf, sleep, switchable, until, type Member } from '../testing/members.js';
import { Attacker, publish, recording, tapped } from '../testing/attacker.js';

const world = new World();
afterEach(() => world.end());


const text = new TextDecoder();

/** The direct room `m` was invited to or made, once it is joined. */
async function directRoom(m: Member): Promise<string> {
  await until(() => m.of('joined').some((j) => j.direct), `${m.name}'s direct room`);
  return m.of('joined').find((j) => j.direct)!.room;
}

describe('direct-message rooms that only the two can enter', () => {
  it('aThirdMemberNeverLearnsTheDirectRoomSecret: the invitation carol decrypts in the shared room does not carry it', async () => {
    const server = await world.server();
    const alice = recording();
    const carol = recording();
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], { alice: { e2ee: alice.e2ee }, carol: { e2ee: carol.e2ee } });
    const [a, b, c] = all as [Member, Member, Member];
    await a.client.command('/msg bob psst');
    await until(() => b.texts().includes('psst'), 'the direct message at bob');
    // carol has processed everything alice said in the shared room before this marker.
    await marker(a, c);
    const dm = await directRoom(b);
    const secret = alice.secrets.get(dm)!;
    expect(secret).toHaveLength(32);
    const seen = carol.plaintexts.map((p) => text.decode(p));
    // She did decrypt the invitation (it is addressed to bob, posted where all three are)...
    expect(seen.some((p) => p.includes('"t":"dm"') && p.includes(dm))).toBe(true);
    // ...and nothing she decrypted holds the direct room's secret, in any encoding.
    for (const p of carol.plaintexts) {
      expect(Buffer.from(p).includes(Buffer.from(secret))).toBe(false);
      const s = text.decode(p);
      for (const form of [toBase64Url(secret), Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]) expect(s).not.toContain(form);
    }
  });

  it('aThirdMemberWhoKnowsTheSecretCannotWelcomeTheInviteeIntoAGroupOfItsOwn: bob refuses it, warns, and talks to alice alone', async () => {
    const server = await world.server();
    const alice = recording();
    const aliceId = await alice.e2ee.createIdentity();
    // alice's Welcomes into her direct room wait until carol's forgery went first.
    let hold = true;
    const held: Uint8Array[] = [];
    let dmRoom = '';
    const wire = tapped({
      outbound: (h, bytes) => {
        if (hold && h.t === 'welcome' && h.room === dmRoom) {
          held.push(bytes);
          return 'drop';
        }
        return 'pass';
      },
    });
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], { alice: { e2ee: alice.e2ee, identity: aliceId, transport: wire.transport } });
    const [a, b, c] = all as [Member, Member, Member];
    // carol's own protocol client: it knows the direct room's secret (as every member did before
    // the secret was sealed to the invitee), and has a KeyPackage of alice's (a join request
    // alice once sent, which every subscriber sees).
    const spy = await Attacker.connect(server);
    await a.client.command('/msg bob psst');
    await until(() => alice.secrets.size === 2, 'the direct room');
    dmRoom = [...alice.secrets.keys()][1]!;
    const secret = alice.secrets.get(dmRoom)!;
    spy.claim(dmRoom, 0);
    await until(() => spy.frames.some((f) => f.t === 'join' && f.room === dmRoom), "bob's join request, at carol");
    const join = spy.frames.find((f) => f.t === 'join' && f.room === dmRoom)!;
    if (join.t !== 'join') throw new Error('a join frame');
    const e2ee = createE2ee();
    const bobRequest = (await e2ee.openJoinRequest(spy.bodies.get(join.id)!, dmRoom, secret))!;
    const aliceRequest = (await e2ee.openJoinRequest((await e2ee.createJoinRequest(aliceId, 'alice', dmRoom, secret)).body, dmRoom, secret))!;
    const forged = await e2ee.createGroup(await e2ee.createIdentity(), 'carol', dmRoom, { secret });
    const p = await forged.add([aliceRequest, bobRequest], secret);
    spy.send({ v: 1, t: 'welcome', room: dmRoom, id: randomId(), to: join.id }, Uint8Array.of(0x01, ...p.welcome!));
    await until(() => b.of('error').some((e) => e.code === 'E_FORBIDDEN' && e.room === dmRoom), 'bob to refuse the forged Welcome');
    expect(b.of('error').find((e) => e.code === 'E_FORBIDDEN')!.message).toContain('direct room with alice');
    // alice's genuine Welcome now goes: bob joins the room of the two of them.
    hold = false;
    for (const bytes of held) wire.send(bytes);
    await until(() => b.texts().includes('psst'), 'the direct message at bob');
    await b.client.command('/msg alice for your eyes only');
    await until(() => a.texts().includes('for your eyes only'), "bob's reply at alice");
    expect(b.of('member-joined').filter((e) => e.room === dmRoom).map((e) => e.name)).not.toContain('carol');
    expect(c.texts()).not.toContain('for your eyes only');
    spy.close();
  });

  it('anAddToADirectRoomIsRefusedByTheInviteeAndRaisesAnAlarm: even the inviter cannot bring a third member in', async () => {
    const server = await world.server();
    const alice = recording();
    const wire = tapped({});
    const { link, all } = await world.room(server, ['alice', 'bob'], { alice: { e2ee: alice.e2ee, transport: wire.transport } });
    const [a, b] = all as [Member, Member];
    await a.client.command('/msg bob psst');
    const dm = await directRoom(b);
    await until(() => b.texts().includes('psst'), 'the direct message at bob');
    // alice's own code adds a KeyPackage of a third identity to the direct room and publishes it.
    const secret = alice.secrets.get(dm)!;
    const session = alice.sessions.find((s) => s.room === dm)!;
    const e2ee = createE2ee();
    const mallory = (await e2ee.openJoinRequest((await e2ee.createJoinRequest(await e2ee.createIdentity(), 'mallory', dm, secret)).body, dm, secret))!;
    await publish(session, dm, (bytes) => wire.send(bytes), await session.add(mallory, secret));
    await until(() => b.of('error').some((e) => e.code === 'E_FORBIDDEN' && e.room === dm), 'the alarm at bob');
    expect(b.of('error').find((e) => e.code === 'E_FORBIDDEN' && e.room === dm)!.message).toContain('direct conversation with alice');
    expect(b.of('member-joined').filter((e) => e.room === dm).map((e) => e.name)).not.toContain('mallory');
    void link;
  });

  it('presenceFlipsFromTheRelayDoNotMakeTheInviterSendTheInvitationAgainEachTime: at most once per doubling interval', async () => {
    const server = await world.server();
    let invitations = 0;
    let inject: ((bytes: Uint8Array) => void) | undefined;
    const bobLine = switchable();
    const { link, all } = await world.room(server, ['alice', 'bob'], {
      alice: {
        interceptor: {
          inbound: (_h, _b, toClient) => ((inject = toClient), 'pass'),
          outbound: (h) => {
            if (h.t === 'pub' && h.kind === 'dm') invitations++;
            return 'pass';
          },
        },
      },
      bob: { transport: bobLine.transport },
    });
    const [a, b] = all as [Member, Member];
    const room = roomOf(link);
    // bob is away: the invitation waits for him to subscribe again.
    bobLine.offline();
    await a.client.command('/msg bob while you were away');
    await until(() => invitations === 1, 'the first invitation');
    // The relay says bob came and went, 4,000 times in a burst.
    for (let i = 0; i < 4_000; i++) inject!(encodeFrame({ v: 1, t: 'presence', room, count: 1 + (i % 2) }));
    // Then for 3 s more, a flip every 10 ms.
    for (let i = 0; i < 300; i++) {
      inject!(encodeFrame({ v: 1, t: 'presence', room, count: 1 + (i % 2) }));
      await sleep(10);
    }
    // Within ~3.5 s of the first: the one re-send after 2 s (the next waits 4 s more).
    expect(invitations).toBeLessThanOrEqual(2);
    // bob back for real: the invitation (sent again once its interval is over) reaches him.
    bobLine.online();
    await until(() => b.texts().includes('while you were away'), 'the direct message at bob', 30_000);
  });
});

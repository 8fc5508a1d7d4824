/**
 * A link holder who is not a member answers a newcomer's join request first, with a Welcome
 * into a group of its own under the room's id (issue "Private by construction", attack 1, link
 * rooms): real clients on the real relay (in-process, real sockets, real MLS).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createE2ee } from '@safehouse/core/e2ee';
import { parseInvite, randomId } from '@safehouse/core/protocol';
import { World, until, type Member } from '../testing/members.js';
import { Attacker, tapped } from '../testing/attacker.js';

const world = new World();
afterEach(() => world.end());

describe('a newcomer is welcomed only into the room the relay holds', () => {
  it("aLinkHolderCannotWelcomeANewcomerIntoAGroupOfItsOwn: dave refuses the rival group, takes the room's Welcome, and talks with alice", async () => {
    const server = await world.server();
    const e2ee = createE2ee();
    const aliceId = await e2ee.createIdentity();
    // alice's Welcomes wait until the forgery was refused (the attacker answers first).
    let hold = false;
    const held: Uint8Array[] = [];
    const wire = tapped({
      outbound: (h, bytes) => {
        if (!hold || h.t !== 'welcome') return 'pass';
        held.push(bytes);
        return 'drop';
      },
    });
    const { link, all } = await world.room(server, ['alice'], { alice: { identity: aliceId, transport: wire.transport } });
    const [alice] = all as [Member];
    const parsed = parseInvite(link);
    if (!parsed.ok || !parsed.invite.room) throw new Error('a room link');
    const { id: room, secret } = parsed.invite.room;
    // The link holder: subscribed with a claim of its own (the relay cannot check it), it sees
    // join requests, and builds a group under the room's id with the newcomer and a KeyPackage
    // of alice's (the inviter the link names) in it.
    const spy = await Attacker.connect(server);
    spy.claim(room, 0);
    hold = true;
    const dave = await world.member('dave', link);
    await until(() => spy.frames.some((f) => f.t === 'join' && f.room === room), "dave's join request, at the link holder");
    const join = spy.frames.find((f) => f.t === 'join' && f.room === room)!;
    if (join.t !== 'join') throw new Error('a join frame');
    const daveRequest = (await e2ee.openJoinRequest(spy.bodies.get(join.id)!, room, secret))!;
    const aliceRequest = (await e2ee.openJoinRequest((await e2ee.createJoinRequest(aliceId, 'alice', room, secret)).body, room, secret))!;
    const rival = await e2ee.createGroup(await e2ee.createIdentity(), 'mallory', room, { secret });
    const p = await rival.add([aliceRequest, daveRequest], secret);
    await rival.confirm(p);
    spy.send({ v: 1, t: 'welcome', room, id: randomId(), to: join.id }, Uint8Array.of(0x01, ...p.welcome!));
    await until(() => dave.of('error').some((e) => e.code === 'E_FORBIDDEN' && e.room === room), 'dave to refuse the rival group', 20_000);
    expect(dave.of('error').find((e) => e.code === 'E_FORBIDDEN')!.message).toContain('a room of their own');
    expect(dave.of('error').filter((e) => e.code === 'E_FORBIDDEN')).toHaveLength(1);
    expect(dave.of('joined')).toHaveLength(0);
    // The genuine Welcome for the same request (alice answered it; it comes late) is taken.
    hold = false;
    for (const bytes of held) wire.send(bytes);
    await until(() => dave.of('joined').length === 1, 'dave to join the room', 30_000);
    await dave.client.command('hello from dave');
    await until(() => alice.texts().includes('hello from dave'), "dave's message at alice");
    // The room code he was shown is the room's, as alice's /code says at that epoch.
    const joined = dave.of('joined')[0]!;
    await alice.client.command('/code');
    await until(() => alice.of('room-code').length > 0, "alice's room code");
    const code = alice.of('room-code').at(-1)!;
    if (code.epoch === joined.epoch) expect(code.code).toBe(joined.code);
    spy.close();
  });
});

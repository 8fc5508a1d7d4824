/**
 * A third member of the shared room cannot take the relay's "line" of alice and bob's direct room
 * (issue 12 review): carol learns the direct room's id from the invitation she decrypts in the
 * shared room and subscribes to it first, with a group of her own, while alice and bob are both
 * offline (the relay forgot the room). When they are back, bob still joins alice's direct room
 * and alice's queued message arrives. Real clients on the real relay (in-process, real sockets,
 * real MLS).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createE2ee } from '@safehouse/core/e2ee';
import { randomBytes } from 'node:crypto';
import { decodeRelayFrame, subStatement, toBase64Url } from '@safehouse/core/protocol';
import { World, sleep, switchable, until, type Member } from '../testing/members.js';
import { Attacker, recording } from '../testing/attacker.js';

const world = new World();
afterEach(() => world.end());

/** carol's client code, recording every plaintext her sessions read. */

describe("a co-member cannot take the line of a direct room", () => {
  it('aThirdMemberSubscribingFirstToADirectRoomIdCannotDenyIt: bob joins alice in their direct room, the queued message arrives, carol reads nothing', async () => {
    const server = await world.server();
    const aNet = switchable();
    const bNet = switchable();
    const carol = recording();
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], {
      alice: { transport: aNet.transport },
      bob: { transport: bNet.transport },
      carol: { e2ee: carol.e2ee },
    });
    const [alice, bob, c] = all as [Member, Member, Member];
    // alice writes to bob while bob is offline, then goes offline herself: the relay forgets the
    // direct room (it only ever had alice in it).
    bNet.offline();
    await sleep(500);
    await alice.client.command('/msg bob psst, the plan');
    await until(() => carol.texts.some((p) => p.includes('"t":"dm"')), 'the invitation at carol');
    const invite = JSON.parse(carol.texts.find((p) => p.includes('"t":"dm"'))!.replace(/^[^{]*/, '')) as { room: string };
    const dm = invite.room;
    aNet.offline();
    await sleep(500);

    // carol's own code: a group of her own under the direct room's id, subscribed first.
    const e2ee = createE2ee();
    const spy = await Attacker.connect(server);
    const bodies: Uint8Array[] = [];
    spy.ws.on('message', (data: Buffer) => {
      const d = decodeRelayFrame(new Uint8Array(data));
      if (d.ok && d.header.t === 'msg' && d.header.room === dm) bodies.push(d.body);
    });
    const mine = await e2ee.createGroup(await e2ee.createIdentity(), 'carol', dm, { secret: new Uint8Array(randomBytes(32)) });
    const key = await mine.relayKey();
    spy.send({ v: 1, t: 'sub', room: dm, epoch: key.epoch, key: toBase64Url(key.publicKey), sig: toBase64Url(await key.sign(subStatement(spy.nonce, dm, key.epoch))) });
    await until(() => spy.frames.some((f) => f.t === 'presence' && f.room === dm), 'carol on the line');

    // alice and bob are back: bob joins the direct room, and alice's queued message arrives.
    aNet.online();
    bNet.online();
    await until(() => bob.of('joined').some((j) => j.direct && j.room === dm), 'bob to join the direct room', 25_000);
    await until(() => bob.texts().includes('psst, the plan'), "alice's queued message at bob", 10_000);
    expect(bob.of('left').filter((e) => e.room === dm)).toHaveLength(0);
    expect(bob.of('error').filter((e) => e.room === dm && e.code === 'E_FORBIDDEN')).toHaveLength(0);
    // bob answers in the direct room; alice reads it (the marker: everything sent in the direct
    // room before it was delivered, so carol's absence below is not a matter of waiting longer).
    await bob.client.command('/msg alice for your eyes only');
    await until(() => alice.texts().includes('for your eyes only'), "bob's reply at alice");
    expect(bob.of('member-joined').filter((e) => e.room === dm).map((e) => e.name)).not.toContain('carol');
    expect(c.texts()).not.toContain('for your eyes only');
    expect(c.texts()).not.toContain('psst, the plan');
    let read = '';
    for (const body of bodies) {
      try {
        const r = await mine.receive(body);
        if (r.kind === 'message') read += new TextDecoder().decode(r.plaintext);
      } catch {
        // not for carol's group
      }
    }
    expect(read).toBe('');
    spy.close();
  }, 45_000);
});

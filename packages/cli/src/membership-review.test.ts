/**
 * The attacks an attacker review found against the membership authority and the room policy,
 * each replayed with real clients on the real relay, asserting the defence (docs/protocol.md
 * "Membership authority", "Room policy"). A "modified client" is our client with a transport
 * that makes it misbehave as a modified build would (testing/members.ts `interceptTransport`).
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { commitStatement, encodeFrame, randomId, toBase64Url } from '@safehouse/core/protocol';
import { World, marker, roomOf, switchable, until, type Interceptor, type Member } from './testing/members.js';

const world = new World();
afterEach(() => world.end());



/**
 * `from` writes `prefix N` every poll until `to` shows one (at most 40): for a member that is
 * catching up, and so not yet subscribed (the relay keeps no messages for it meanwhile).
 */
async function reaches(from: Member, to: Member, prefix: string): Promise<void> {
  let n = 0;
  await until(() => {
    if (to.texts().some((t) => t.startsWith(prefix))) return true;
    if (n < 40) void from.client.command(`${prefix} ${n++}`);
    return false;
  }, `${to.name} reads ${from.name}`, 20_000);
}

/**
 * A removed member that keeps its old state (drops every commit it is sent once `on`) and asks
 * the relay for a fork refusing the commit that removed it (the one it dropped first).
 */
function keepsOldState(): { interceptor: Interceptor; on(): void; forks: number } {
  const s = {
    enabled: false,
    refused: undefined as string | undefined,
    forks: 0,
    on() {
      s.enabled = true;
    },
    interceptor: {
      inbound: (h) => {
        if (!s.enabled || h.t !== 'msg' || h.kind !== 'commit') return 'pass';
        s.refused ??= h.id;
        return 'drop';
      },
      outbound: (h) => {
        if (!s.enabled || h.t !== 'sub' || s.refused === undefined) return 'pass';
        s.forks++;
        return { replace: [encodeFrame({ ...h, fork: s.refused })] };
      },
    } as Interceptor,
  };
  return s;
}

type Internals = {
  rooms: Map<
    string,
    {
      removeMember(m: unknown): Promise<boolean>;
      others(): Array<{ name: string }>;
      session: { epoch(): number; relayKey(): Promise<{ sign(m: Uint8Array): Promise<Uint8Array> }> };
    }
  >;
};

describe('a removed member forks the room at the epoch it was removed from', () => {
  for (const ban of [false, true])
    it(`aRemovedMembersForkDoesNotCaptureAMemberComingBack (${ban ? 'ban' : 'kick'})`, async () => {
      const server = await world.server({ limits: { reproveGraceMs: 1_000 } });
      const carolMod = keepsOldState();
      const net = switchable();
      const { all } = await world.room(server, ['alice', 'bob', 'carol', 'dave'], {
        carol: { interceptor: carolMod.interceptor },
        dave: { transport: net.transport, connection: { backoffBaseMs: 50, backoffCapMs: 100 } },
      });
      const [alice, bob, carol, dave] = all as [Member, Member, Member, Member];
      net.offline();
      await until(() => dave.of('connection').at(-1)?.state !== 'connected', 'dave offline');
      carolMod.on();
      const [picked] = alice.client.remove((m) => m.name === 'carol', { ban });
      expect(await picked!.landed).toBe(true);
      await until(() => carolMod.forks > 0, 'carol forks', 10_000);
      net.online();
      // dave catches up from the room's log: he learns of the removal and reads the room.
      await until(() => dave.of('member-left').some((e) => e.name === 'carol'), 'dave learns carol was removed', 15_000);
      await reaches(alice, dave, 'alice to everyone');
      await dave.client.command('dave writes to the room');
      await until(() => alice.texts().includes('dave writes to the room') && bob.texts().includes('dave writes to the room'), 'the room reads dave');
      // Answered: the relay has put it where it goes (her fork); alice's marker reaches dave after it.
      await carol.sayAndWait('carol, removed, still talking');
      await marker(alice, dave);
      expect(carol.texts()).not.toContain('dave writes to the room');
      expect(dave.texts()).not.toContain('carol, removed, still talking');
    }, 60_000);

  it('aKickedMemberCannotCaptureANewcomerWithTheNewLink: a kick changes the link, and the kicked member cannot prove the new one', async () => {
    const server = await world.server({ limits: { reproveGraceMs: 1_000 } });
    const carolMod = keepsOldState();
    const { all } = await world.room(server, ['alice', 'bob', 'carol'], {
      // carol's modified client answers join requests at once (no batch window, no rank delay).
      carol: { interceptor: carolMod.interceptor, timing: { batchWindowMs: 0, rankDelayMs: 0 } },
    });
    const [alice, bob, carol] = all as [Member, Member, Member];
    carolMod.on();
    const [picked] = alice.client.remove((m) => m.name === 'carol');
    expect(await picked!.landed).toBe(true);
    await until(() => carolMod.forks > 0, 'carol forks', 10_000);
    await until(() => alice.of('invite').length === 2, 'the new link after the kick');
    const erin = await world.member('erin', alice.of('invite')[1]!.link);
    await until(() => erin.of('joined').length === 1, 'erin admitted', 20_000);
    await erin.client.command('erin: hello room');
    await until(() => alice.texts().includes('erin: hello room'), 'alice reads erin');
    await marker(bob, erin);
    expect(carol.texts()).not.toContain('erin: hello room');
  }, 60_000);
});

describe('a forbidden commit while a member was away', () => {
  it('aMemberAwayDuringAForbiddenCommitRejoinsThoseWhoRefusedIt', async () => {
    const server = await world.server();
    const net = switchable();
    const { link, all } = await world.room(server, ['alice', 'bob', 'carol', 'dave'], {
      dave: { transport: net.transport, connection: { backoffBaseMs: 50, backoffCapMs: 100 } },
    });
    const [alice, bob, carol, dave] = all as [Member, Member, Member, Member];
    net.offline();
    await until(() => dave.of('connection').at(-1)?.state !== 'connected', 'dave offline');
    const room = (bob.client as unknown as Internals).rooms.get(roomOf(link))!;
    void room.removeMember(room.others().find((m) => m.name === 'carol')); // bob is no admin
    await until(() => [alice, carol].every((m) => m.of('error').some((e) => e.code === 'E_FORBIDDEN')), 'the refusal at alice and carol');
    await marker(alice, carol);
    const [picked] = alice.client.remove((m) => m.name === 'bob');
    expect(await picked!.landed).toBe(true);
    net.online();
    await until(() => dave.of('member-left').some((e) => e.name === 'bob'), 'dave follows the room that refused bob', 15_000);
    // Once dave is subscribed again (he caught up through two commits), alice's words reach him.
    await reaches(alice, dave, 'alice after the kick');
    await dave.client.command('dave is back');
    await until(() => alice.texts().includes('dave is back') && carol.texts().includes('dave is back'), 'alice and carol read dave');
  }, 60_000);
});

describe('a garbage commit signed by a member', () => {
  it('aGarbageCommitFromAMemberNoLongerFreezesTheRoom: members go on without it, and a kick still lands', async () => {
    const server = await world.server({ limits: { reproveGraceMs: 1_000 } });
    let inject: Uint8Array | undefined;
    const { link, all } = await world.room(server, ['alice', 'bob', 'carol'], {
      // bob's modified client slips the frame in after his next frame to the relay.
      bob: {
        interceptor: {
          outbound: (_h, bytes) => {
            const extra = inject;
            if (!extra) return 'pass';
            inject = undefined;
            return { replace: [bytes, extra] };
          },
        },
      },
    });
    const [alice, bob, carol] = all as [Member, Member, Member];
    const roomId = roomOf(link);
    const session = (bob.client as unknown as Internals).rooms.get(roomId)!.session;
    const epoch = session.epoch();
    const body = new Uint8Array(200).fill(0x5a);
    const next = toBase64Url(generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
    const sig = toBase64Url(await (await session.relayKey()).sign(commitStatement(roomId, epoch, createHash('sha256').update(body).digest(), next)));
    inject = encodeFrame({ v: 1, t: 'pub', room: roomId, id: randomId(), kind: 'commit', epoch, next, sig }, body);
    await bob.client.command('an ordinary message that carries the garbage commit behind it');
    await until(() => [alice, carol].every((m) => m.of('error').some((e) => e.code === 'E_FORBIDDEN')), 'alice and carol go on without it', 15_000);
    await alice.client.command('alice after the garbage');
    await until(() => carol.texts().includes('alice after the garbage'), 'carol reads alice', 15_000);
    const [picked] = alice.client.remove((m) => m.name === 'bob');
    expect(await picked!.landed).toBe(true);
    await until(() => carol.of('member-left').some((e) => e.name === 'bob'), 'the kick lands at carol');
  }, 60_000);
});

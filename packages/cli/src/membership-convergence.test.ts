/**
 * Membership under ordinary trouble (issue "Membership that holds", items 9, 10, 12): leaves
 * while members write, members that were away, members that vanish. Real clients on the real
 * relay; a transport between one client and the relay drops what the scenario needs dropped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { World, switchable, until, type Member } from './testing/members.js';

const world = new World();
afterEach(() => world.end());

describe('item 10: messages sent while a leave waits to be committed', () => {
  it('messagesWrittenWhileALeaveWaitsAreHeldNotLost: the writer commits the leave itself, then sends', async () => {
    const server = await world.server();
    // alice (the first in rank order) has crashed: silent both ways, still in the tree. bob, next
    // in rank, would commit carol's leave only after his delay (5 s here); dave writes meanwhile.
    let crashed = false;
    let daveWrites: (() => void) | undefined;
    const slow = { timing: { rankDelayMs: 5_000 } };
    const { all } = await world.room(server, ['alice', 'bob', 'carol', 'dave'], {
      alice: { interceptor: { inbound: () => (crashed ? 'drop' : 'pass'), outbound: () => (crashed ? 'drop' : 'pass') } },
      bob: slow,
      carol: slow,
      dave: { ...slow, interceptor: { inbound: (h) => ((h.t === 'msg' && h.kind === 'proposal' && setTimeout(() => daveWrites?.(), 0), 'pass')) } },
    });
    const [, bob, carol, dave] = all as [Member, Member, Member, Member];
    crashed = true;
    const texts = ['written during the leave 1', 'written during the leave 2'];
    daveWrites = () => {
      daveWrites = undefined;
      for (const t of texts) void dave.client.command(t);
    };
    const started = Date.now();
    await carol.client.command('/leave');
    await until(() => texts.every((t) => bob.texts().includes(t)), 'both messages at bob');
    expect(Date.now() - started).toBeLessThan(4_000); // dave committed the leave himself
    expect(bob.texts().filter((t) => texts.includes(t))).toEqual(texts); // in order, once each
    expect(bob.of('member-left').map((e) => e.name)).toEqual(['carol']);
    expect(dave.of('error')).toEqual([]);
  });
});

describe('item 12: a leave sent while no one else is online', () => {
  it('aLeaveSurvivesWhenNoOtherMemberIsOnline: the relay keeps it for the next member to subscribe', async () => {
    const server = await world.server();
    const net = switchable();
    const { all } = await world.room(server, ['alice', 'carol'], { alice: { transport: net.transport, connection: { backoffBaseMs: 50, backoffCapMs: 100 } } });
    const [alice, carol] = all as [Member, Member];
    net.offline();
    await until(() => alice.of('connection').at(-1)?.state !== 'connected', 'alice offline');
    await carol.client.quit(); // a leave proposal, then gone
    net.online();
    await until(() => alice.of('member-left').some((e) => e.name === 'carol'), 'alice commits the leave she missed');
    expect(alice.of('member-left').find((e) => e.name === 'carol')?.by).toBeUndefined(); // a leave, not a removal
  });
});

describe('item 9: a member offline during a commit', () => {
  it('aMemberOfflineDuringAJoinCatchesUpFromTheRelayLog', async () => {
    const server = await world.server();
    const net = switchable();
    const { link, all } = await world.room(server, ['alice', 'bob', 'carol'], { carol: { transport: net.transport, connection: { backoffBaseMs: 50, backoffCapMs: 100 } } });
    const [alice, , carol] = all as [Member, Member, Member];
    net.offline();
    await until(() => carol.of('connection').at(-1)?.state !== 'connected', 'carol offline');
    const dave = await world.member('dave', link);
    await until(() => dave.of('joined').length === 1 && alice.of('member-joined').some((e) => e.name === 'dave'), 'dave admitted');
    net.online();
    await until(() => carol.of('member-joined').some((e) => e.name === 'dave'), 'carol processes the commit she missed');
    await dave.client.command('hello carol');
    await until(() => carol.texts().includes('hello carol'), 'carol reads dave');
    await carol.client.command('hello dave');
    await until(() => dave.texts().includes('hello dave'), 'dave reads carol');
  });

  it('aMemberBehindAfterARelayRestartIsReadmitted: the new relay has no log, the others re-admit it', async () => {
    const server = await world.server();
    const net = switchable();
    const quick = { timing: { aloneRejoinMs: 500 } };
    const { link, all } = await world.room(server, ['alice', 'bob', 'carol'], {
      alice: quick,
      bob: quick,
      carol: { ...quick, transport: net.transport, connection: { backoffBaseMs: 50, backoffCapMs: 200 } },
    });
    const [alice, bob, carol] = all as [Member, Member, Member];
    net.offline();
    await until(() => carol.of('connection').at(-1)?.state !== 'connected', 'carol offline');
    const dave = await world.member('dave', link, quick);
    await until(() => dave.of('joined').length === 1 && bob.of('member-joined').some((e) => e.name === 'dave'), 'dave admitted');
    // The relay restarts (same port and path): the commit carol missed is gone with it.
    await server.close();
    world.servers.splice(world.servers.indexOf(server), 1);
    await world.server({ port: server.port, basePath: server.basePath });
    net.online();
    await until(() => carol.of('info').some((e) => /re-admitted to/.test(e.message)), 'carol re-admitted', 30_000);
    await until(() => alice.of('info').some((e) => /carol was re-admitted/.test(e.message)), 'alice sees it as a re-admission');
    expect(alice.of('member-left').filter((e) => e.name === 'carol')).toEqual([]);
    await dave.client.command('hello carol');
    await until(() => carol.texts().includes('hello carol'), 'carol reads dave');
    await carol.client.command('hello all');
    await until(() => [alice, bob, dave].every((m) => m.texts().includes('hello all')), 'everyone reads carol');
  }, 60_000);
});

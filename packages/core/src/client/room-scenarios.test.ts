/**
 * Room scenarios with the real e2ee over an in-memory relay that follows docs/protocol.md, named
 * after what they verify: ranked admission, competing commits, replays, future epochs, lost
 * Welcomes, refusals, timeouts, leaving, relay restarts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../protocol/frames.js';
import { BASE, Scenario, sleep, until } from './testing/peers.js';
let s: Scenario;
beforeEach(() => {
  s = new Scenario();
});
afterEach(() => s.end());

describe('rooms: joining, commits, epochs, leaving, restarts (real e2ee, in-memory relay)', () => {
  it('createRoomEmitsInviteAndFingerprint', async () => {
    const { peer, link } = await s.founder();
    expect(link.startsWith(`${BASE}#r=`)).toBe(true);
    expect(peer.of('fingerprint')[0]!.fingerprint).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(peer.of('joined')[0]).toMatchObject({ roomName: 'lobby', name: 'alice', direct: false });
  });

  it('onlyTheLowestLeafCommitsAJoin', async () => {
    const relay = s.relay;
    const [, bob, carol, dave] = await s.room(['alice', 'bob', 'carol', 'dave']);
    expect(relay.commitPubs).toBe(3); // one Add per joiner, no competing commits
    expect(bob!.of('member-joined').map((e) => e.name)).toEqual(['carol', 'dave']);
    expect(carol!.of('joined')).toHaveLength(1);
    expect(dave!.of('joined')).toHaveLength(1);
  });

  it('competingCommitsResolveToOneAdd', async () => {
    const relay = s.relay;
    const fast = { timing: { rankDelayMs: 0, joinTimeoutMs: 5_000, leaveTimeoutMs: 1_000 } };
    const a = s.peer('alice', BASE, fast);
    await a.client.start();
    await until(() => a.of('invite').length === 1, 'invite');
    const l = a.of('invite')[0]!.link;
    const bob = await s.joiner('bob', l, fast);
    await until(() => bob.of('joined').length === 1, 'bob joined');
    await until(() => relay.rooms.get(a.client.currentRoom()!)?.subs.size === 2, 'bob subscribed');
    const carol = await s.joiner('carol', l, fast);
    await until(() => carol.of('joined').length === 1, 'carol joined');
    await until(() => a.of('member-joined').length === 2 && bob.of('member-joined').length === 1, 'both see carol');
    expect(relay.commitPubs).toBeGreaterThanOrEqual(2);
    expect(relay.rooms.get(a.client.currentRoom()!)!.commits.size).toBe(2);
    await carol.client.command('after the race');
    await until(() => a.texts().includes('after the race') && bob.texts().includes('after the race'), 'everyone in one epoch');
  });

  it('messagesArriveOnceEvenWhenTheRelayReplaysThem', async () => {
    const relay = s.relay;
    const [alice, bob] = await s.room(['alice', 'bob']);
    await alice!.client.command('one');
    await alice!.client.command('/me two');
    await until(() => bob!.texts().length === 2, 'two messages');
    for (const m of relay.log) if (m.conn.open) setTimeout(() => m.conn.handlers.onFrame(m.bytes), 0);
    await sleep(100);
    expect(bob!.texts()).toEqual(['one', 'two']);
    expect(bob!.of('message')[1]).toMatchObject({ from: 'alice', action: true, direct: false });
    expect(alice!.of('message').filter((m) => m.self).map((m) => m.text)).toEqual(['one', 'two']);
  });

  it('aDroppedMessageIsFlaggedAsAGap', async () => {
    const [alice, bob] = await s.room(['alice', 'bob']);
    await alice!.client.command('one');
    await until(() => bob!.texts().length === 1, 'one');
    s.relay.filter = (_c, h) => !(h.t === 'msg' && h.kind === 'app');
    await alice!.client.command('two (dropped)');
    await alice!.client.command('three (dropped)');
    await sleep(20);
    s.relay.filter = () => true;
    await alice!.client.command('four');
    await until(() => bob!.texts().includes('four'), 'four');
    expect(bob!.of('message').map((m) => [m.text, m.gap])).toEqual([
      ['one', undefined],
      ['four', 2],
    ]);
  });

  it('aMessageForAFutureEpochWaitsForTheCommit', async () => {
    const relay = s.relay;
    const [alice, bob] = await s.room(['alice', 'bob']);
    const held: Array<() => void> = [];
    relay.filter = (conn, h, body) => {
      if (h.t !== 'msg' || h.kind !== 'commit') return true;
      const bytes = encodeFrame(h, body);
      held.push(() => conn.handlers.onFrame(bytes));
      return false;
    };
    const carol = await s.joiner('carol', alice!.of('invite')[0]!.link);
    await until(() => carol.of('joined').length === 1, 'carol joined');
    await until(() => held.length === 1, 'the commit held back');
    await carol.client.command('hi from the new epoch');
    await sleep(50);
    expect(bob!.texts()).toEqual([]);
    held.forEach((f) => f());
    await until(() => bob!.texts().includes('hi from the new epoch'), 'bob to read it after the commit');
  });

  it('aLostWelcomeIsSentAgainWhenTheJoinerAsksAgain', async () => {
    const relay = s.relay;
    const { peer: alice, link } = await s.founder();
    let dropped = 0;
    relay.filter = (conn, h) => {
      if (h.t !== 'welcome' || dropped > 0) return true;
      dropped++;
      setTimeout(() => relay.kill(conn), 0);
      return false;
    };
    const bob = await s.joiner('bob', link);
    await until(() => bob.of('joined').length === 1, 'bob joined after reconnecting');
    expect(dropped).toBe(1);
    expect(relay.commitPubs).toBe(1); // the same Welcome, not a second Add
    expect(alice.of('member-joined')).toHaveLength(1);
  });

  it('aLookAlikeNameIsRefused', async () => {
    const { link } = await s.founder();
    const fake = await s.joiner('ALICE', link);
    await until(() => fake.of('fatal').length === 1, 'the refusal');
    expect(fake.of('error')[0]).toMatchObject({ code: 'E_NAME_TAKEN' });
    expect(fake.of('left')[0]).toMatchObject({ reason: 'refused' });
  });

  it('aJoinTimesOutWhenNoMemberIsOnline', async () => {
    const { peer: alice, link } = await s.founder();
    await alice.client.quit();
    const bob = await s.joiner('bob', link, { timing: { joinTimeoutMs: 300 } });
    await until(() => bob.of('fatal').length === 1, 'the timeout');
    expect(bob.of('error')[0]).toMatchObject({ code: 'E_JOIN_TIMEOUT' });
    expect(bob.of('error')[0]!.message).toMatch(/must be online/);
  });

  it('aLeaverIsRemovedAndReadsNothingMore', async () => {
    const [alice, bob, carol] = await s.room(['alice', 'bob', 'carol']);
    await carol!.client.command('/leave');
    await until(() => carol!.of('left').length === 1, 'carol left');
    await until(() => alice!.of('member-left').length === 1 && bob!.of('member-left').length === 1, 'removal committed');
    await alice!.client.command('/users');
    expect(alice!.last('users')!.users.map((u) => u.name).sort()).toEqual(['alice', 'bob']);
    await bob!.client.command('secret after carol');
    await until(() => alice!.texts().includes('secret after carol'), 'alice reads it');
    expect(carol!.texts()).not.toContain('secret after carol');
  });

  it('quitDeliversWhatWasWrittenThenLeaves', async () => {
    const [alice, bob] = await s.room(['alice', 'bob']);
    await bob!.client.command('last words');
    const result = await bob!.client.quit();
    expect(result).toEqual({ delivered: true });
    await until(() => alice!.texts().includes('last words'), 'the message');
    await until(() => alice!.of('member-left').some((e) => e.name === 'bob'), 'bob removed');
    expect(bob!.last('connection')).toMatchObject({ state: 'offline' });
    await bob!.client.command('too late');
    expect(bob!.last('error')).toMatchObject({ code: 'E_USAGE' });
  });

  it('aRelayRestartLosesAndDuplicatesNothing', async () => {
    const relay = s.relay;
    const [alice, bob, carol] = await s.room(['alice', 'bob', 'carol']);
    await alice!.client.command('before');
    await until(() => carol!.texts().includes('before'), 'before');
    // The relay acks bob's message but dies before fanning it out.
    relay.filter = (_conn, h) => !(h.t === 'msg' && h.kind === 'app');
    await bob!.client.command('lost in the crash');
    await until(() => bob!.of('message').some((m) => m.self && m.text === 'lost in the crash'), 'sent');
    await sleep(20);
    relay.filter = () => true;
    relay.restart();
    await until(() => [alice, bob, carol].every((p) => p!.of('connection').some((c) => c.state === 'connected' && c.restarted)), 'reconnected');
    await carol!.client.command('after');
    for (const p of [alice!, carol!]) await until(() => p.texts().includes('lost in the crash'), `${p.client.name} got the resent message`);
    await until(() => alice!.texts().includes('after') && bob!.texts().includes('after'), 'after');
    await sleep(100);
    for (const p of [alice!, bob!, carol!]) {
      const ids = p.of('message').map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(alice!.texts().sort()).toEqual(['after', 'lost in the crash']);
    expect(carol!.texts().sort()).toEqual(['before', 'lost in the crash']);
  });

});

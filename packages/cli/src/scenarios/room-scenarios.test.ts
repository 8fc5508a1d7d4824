/**
 * Room scenarios with the real e2ee on the real relay (in-process, real sockets, the membership
 * authority on), named after what they verify: ranked admission, competing commits, replays,
 * future epochs, lost Welcomes, refusals, timeouts, leaving, relay restarts. What a relay could
 * do wrong is played on the wire between one client and the relay (testing/wire.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '@safehouse/core/client';
import { encodeFrame, randomId } from '@safehouse/core/protocol';
import { FAST, Scenario, until, type Peer } from '../testing/scenario.js';

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.start();
});
afterEach(() => s.close());

/** Absence after a marker: `from`'s marker reached every one of `at`, so anything before it had its chance. */
async function marker(from: Peer, at: Peer[], text = `marker ${randomId()}`): Promise<void> {
  await from.client.command(text);
  await until(() => at.every((p) => p.texts().includes(text)), `the marker at ${at.map((p) => p.client.name).join(', ')}`);
}

describe('rooms: joining, commits, epochs, leaving, restarts (real e2ee, real relay)', () => {
  it('createRoomEmitsInviteAndFingerprint', async () => {
    const { peer, link } = await s.founder();
    expect(link.startsWith(`${s.url}#r=`)).toBe(true);
    expect(peer.of('fingerprint')[0]!.fingerprint).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(peer.of('joined')[0]).toMatchObject({ roomName: 'lobby', name: 'alice', direct: false });
  });

  it('onlyTheLowestLeafCommitsAJoin', async () => {
    const [alice, bob, carol, dave] = await s.room(['alice', 'bob', 'carol', 'dave']);
    expect(s.wire.commitPubs).toBe(3); // one Add per joiner, no competing commits
    expect(s.wire.acceptedCommits(alice!.client.currentRoom()!)).toBe(3);
    expect(bob!.of('member-joined').map((e) => e.name)).toEqual(['carol', 'dave']);
    expect(carol!.of('joined')).toHaveLength(1);
    expect(dave!.of('joined')).toHaveLength(1);
  });

  it('competingCommitsResolveToOneAdd', async () => {
    const fast = { timing: { rankDelayMs: 0, joinTimeoutMs: 15_000, leaveTimeoutMs: 1_000 } };
    const { peer: a, link: l } = await s.founder('alice', fast);
    const bob = await s.joiner('bob', l, fast);
    await until(() => bob.of('joined').length === 1, 'bob joined');
    await s.subscribed([a, bob], 'bob subscribed');
    const carol = await s.joiner('carol', l, fast);
    await until(() => carol.of('joined').length === 1, 'carol joined');
    await until(() => a.of('member-joined').length === 2 && bob.of('member-joined').length === 1, 'both see carol');
    expect(s.wire.commitPubs).toBeGreaterThanOrEqual(2);
    expect(s.wire.acceptedCommits(a.client.currentRoom()!)).toBe(2); // bob's Add, then one Add of carol
    await carol.client.command('after the race');
    await until(() => a.texts().includes('after the race') && bob.texts().includes('after the race'), 'everyone in one epoch');
  });

  it('messagesArriveOnceEvenWhenTheRelayReplaysThem', async () => {
    const [alice, bob] = await s.room(['alice', 'bob']);
    await alice!.client.command('one');
    await alice!.client.command('/me two');
    await until(() => bob!.texts().length === 2, 'two messages');
    // The relay sends bob every message it ever gave him again, commits included.
    const line = bob!.line!;
    for (const m of [...line.delivered]) line.deliver(m.bytes);
    await marker(alice!, [bob!], 'marker');
    expect(bob!.texts()).toEqual(['one', 'two', 'marker']);
    expect(bob!.of('message')[1]).toMatchObject({ from: 'alice', action: true, direct: false });
    expect(alice!.of('message').filter((m) => m.self).map((m) => m.text)).toEqual(['one', 'two', 'marker']);
  });

  it('aDroppedMessageIsFlaggedAsAGap', async () => {
    const [alice, bob] = await s.room(['alice', 'bob']);
    await alice!.client.command('one');
    await until(() => bob!.texts().length === 1, 'one');
    let dropped = 0;
    s.wire.inbound = (line, h) => (line === bob!.line && h.t === 'msg' && h.kind === 'app' && dropped < 2 ? (dropped++, 'drop') : 'pass');
    await alice!.client.command('two (dropped)');
    await alice!.client.command('three (dropped)');
    await until(() => dropped === 2, 'two messages dropped');
    await alice!.client.command('four');
    await until(() => bob!.texts().includes('four'), 'four');
    expect(bob!.of('message').map((m) => [m.text, m.gap])).toEqual([
      ['one', undefined],
      ['four', 2],
    ]);
  });

  it('aMessageForAFutureEpochWaitsForTheCommit', async () => {
    const [alice, bob] = await s.room(['alice', 'bob']);
    const room = alice!.client.currentRoom()!;
    // The relay holds back from bob the commit that adds carol.
    const held: Array<() => void> = [];
    s.wire.inbound = (line, h, body) => {
      if (line !== bob!.line || h.t !== 'msg' || h.kind !== 'commit') return 'pass';
      const copy = body.slice();
      const header = { ...h };
      held.push(() => line.deliver(encodeFrame(header, copy)));
      return 'drop';
    };
    const carol = await s.joiner('carol', alice!.of('invite')[0]!.link);
    await until(() => carol.of('joined').length === 1, 'carol joined');
    await until(() => held.length === 1, 'the commit held back');
    const handed = (): number => bob!.line!.delivered.filter((m) => m.header.kind === 'app' && m.header.room === room).length;
    await carol.client.command('hi from the new epoch');
    // carol's message reached bob's client before the commit it needs (the relay let it through).
    await until(() => handed() === 1, "carol's message handed to bob");
    expect(bob!.texts()).toEqual([]);
    held.forEach((f) => f());
    await until(() => bob!.texts().includes('hi from the new epoch'), 'bob to read it after the commit');
    // It waited for the commit: bob learnt of carol (the commit) before he showed her message.
    const joinedAt = bob!.events.findIndex((e) => e.type === 'member-joined' && e.name === 'carol');
    const shownAt = bob!.events.findIndex((e) => e.type === 'message' && e.text === 'hi from the new epoch');
    expect(joinedAt).toBeGreaterThanOrEqual(0);
    expect(joinedAt).toBeLessThan(shownAt);
  });

  it('aLostWelcomeIsSentAgainWhenTheJoinerAsksAgain', async () => {
    const { peer: alice, link } = await s.founder();
    let dropped = 0;
    s.wire.inbound = (line, h) => {
      if (h.t !== 'welcome' || dropped > 0) return 'pass';
      dropped++;
      setTimeout(() => line.kill(), 0);
      return 'drop';
    };
    const bob = await s.joiner('bob', link);
    await until(() => bob.of('joined').length === 1, 'bob joined after reconnecting');
    expect(dropped).toBe(1);
    expect(s.wire.commitPubs).toBe(1); // the same Welcome, not a second Add
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
    const bob = await s.joiner('bob', link, { timing: { joinTimeoutMs: 1_000 } });
    await until(() => bob.of('fatal').length === 1, 'the timeout');
    expect(bob.of('error')[0]).toMatchObject({ code: 'E_JOIN_TIMEOUT' });
    expect(bob.of('error')[0]!.message).toMatch(/no member may be online, or the link's invite secret is wrong or was revoked/);
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
    const [alice, bob, carol] = await s.room(['alice', 'bob', 'carol']);
    await alice!.client.command('before');
    await until(() => carol!.texts().includes('before'), 'before');
    // The relay acks bob's message but dies before fanning it out.
    let lost = 0;
    s.wire.inbound = (_line, h) => (h.t === 'msg' && h.kind === 'app' ? (lost++, 'drop') : 'pass');
    await bob!.client.command('lost in the crash');
    await until(() => bob!.of('message').some((m) => m.self && m.text === 'lost in the crash'), 'sent');
    await until(() => lost === 2, 'the fan-out lost');
    s.wire.inbound = () => 'pass';
    await s.restart();
    await until(() => [alice, bob, carol].every((p) => p!.of('connection').some((c) => c.state === 'connected' && c.restarted)), 'reconnected');
    await carol!.client.command('after');
    for (const p of [alice!, carol!]) await until(() => p.texts().includes('lost in the crash'), `${p.client.name} got the resent message`);
    await until(() => alice!.texts().includes('after') && bob!.texts().includes('after'), 'after');
    await marker(alice!, [bob!, carol!], 'closing marker');
    for (const p of [alice!, bob!, carol!]) {
      const ids = p.of('message').map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(alice!.texts().sort()).toEqual(['after', 'lost in the crash']);
    expect(carol!.texts().sort()).toEqual(['before', 'closing marker', 'lost in the crash']);
  });
});

describe('the membership authority, as members live it (real relay)', () => {
  it('aMemberAwayDuringACommitCatchesUpFromTheRelaysLog', async () => {
    const [alice, bob] = await s.room(['alice', 'bob']);
    const room = alice!.client.currentRoom()!;
    const refusedSubs: string[] = [];
    s.wire.inbound = (line, h) => {
      if (line.owner === bob!.label && h.t === 'nack' && h.id === room) refusedSubs.push(h.code);
      return 'pass';
    };
    // bob is cut off; carol joins meanwhile: bob misses the commit that adds her.
    s.wire.cutOff.add(bob!.label);
    bob!.line!.kill();
    await until(() => alice!.line!.presence.get(room) === 1, 'bob away');
    const carol = await s.joiner('carol', alice!.of('invite')[0]!.link);
    await until(() => carol.of('joined').length === 1, 'carol joined');
    await s.subscribed([alice!, carol], 'carol subscribed');
    const missed = s.wire.acceptedCommits(room);
    // bob comes back proving the epoch he knows: the relay sends him the commit he missed, he
    // processes it and proves the room's current epoch, in the same cohort as the others.
    s.wire.cutOff.delete(bob!.label);
    await until(() => bob!.of('member-joined').some((e) => e.name === 'carol'), 'bob to learn of carol from the log');
    await s.subscribed([alice!, bob!, carol], 'bob subscribed again');
    expect(refusedSubs).toEqual(['E_STALE_EPOCH']);
    expect(bob!.line!.delivered.filter((m) => m.header.kind === 'commit')).toHaveLength(1);
    expect(s.wire.acceptedCommits(room)).toBe(missed); // caught up, nothing committed again
    await carol.client.command('hello bob');
    await bob!.client.command('hello carol');
    await until(() => bob!.texts().includes('hello bob') && carol.texts().includes('hello carol'), 'bob and carol talk');
  });

  it('aRoomKeepsAdmittingAfterARelayRestart', async () => {
    // A relay that restarted holds no key: it learns the room's from the members' proofs (one
    // cohort, since they share the epoch's key) and checks the next commit against it.
    const [alice, bob] = await s.room(['alice', 'bob']);
    const room = alice!.client.currentRoom()!;
    await s.restart();
    await until(() => [alice!, bob!].every((p) => p.of('connection').some((c) => c.state === 'connected' && c.restarted)), 'reconnected');
    await s.subscribed([alice!, bob!], 'both proved the epoch to the new relay');
    const carol = await s.joiner('carol', alice!.of('invite')[0]!.link);
    await until(() => carol.of('joined').length === 1, 'carol joined');
    await until(() => [alice!, bob!].every((p) => p.of('member-joined').some((e) => e.name === 'carol')), 'all see carol');
    await s.subscribed([alice!, bob!, carol], 'carol subscribed');
    expect(s.wire.acceptedCommits(room)).toBe(2);
    await carol.client.command('after the restart');
    await until(() => alice!.texts().includes('after the restart') && bob!.texts().includes('after the restart'), 'carol read by all');
  });
});

describe('timers as Node runs them', () => {
  /**
   * Node's timers run on libuv's millisecond loop clock, `Date.now()` on the wall clock: a
   * `setTimeout(fn, ms)` fires 1 ms before `Date.now()` has moved by `ms` now and then (a few
   * percent of timers on these machines). This clock fires every timer a little early (5 ms,
   * so that it always does).
   */
  const early: Clock = {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const id = setTimeout(fn, Math.max(0, ms - 5));
      return { cancel: () => clearTimeout(id) };
    },
  };

  // Timers may fire a little before the clock reaches their time: `Committer.pump` once skipped an
  // intent whose `due` was 1 ms ahead and nothing woke it again (the joiner timed out, now and
  // then, on the real clock). It now re-arms a timer for intents that are not yet due.
  it('aJoinIsAnsweredWhenTheMembersTimerFiresEarly', async () => {
    const { link } = await s.founder('alice', { ...FAST, clock: early });
    const bob = await s.joiner('bob', link);
    await until(() => bob.of('joined').length === 1, 'bob admitted', 5_000);
  });
});

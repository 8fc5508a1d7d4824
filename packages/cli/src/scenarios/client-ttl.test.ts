/**
 * Timed messages end to end in the client (real e2ee, real relay): `/ttl` (a commit: the timer is
 * group state) reaches every member with the copy caveat, a newcomer has it from its Welcome, the expiry travels in MLS's authenticated data and the `pub` hint, every
 * member drops the message on proven time, a member without proven time hides it, and a
 * browser-style client proves time through the relay's `rt` path (to our own Roughtime server
 * over UDP, which the relay forwards to as its server 0).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '@safehouse/core/protocol';
import { startRoughtimeServer, type RunningRoughtimeServer } from '@safehouse/server';
import { Scenario, until } from '../testing/scenario.js';
import { provenTime } from '../testing/proven-time.js';


let roughtime: RunningRoughtimeServer;
beforeAll(async () => {
  roughtime = await startRoughtimeServer({ port: 0, seed: new Uint8Array(32).fill(7) });
});
afterAll(() => roughtime.close());

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.start({ roughtimeUpstreams: [{ host: roughtime.host, port: roughtime.port }] });
});
afterEach(() => s.close());

describe('timed messages (client)', () => {
  it('aTimedMessageDisappearsFromEveryMemberOnTime', async () => {
    const [alice, bob, carol] = await s.room(['alice', 'bob', 'carol'], { timeSource: provenTime() });
    await alice!.client.command('/ttl 1s');
    for (const p of [alice!, bob!, carol!]) {
      await until(() => p.of('ttl').length === 1, 'the ttl event');
      expect(p.last('ttl')).toMatchObject({ ms: 1_000, from: 'alice', self: p === alice });
      expect(p.last('ttl')!.text).toContain('A recipient can always copy what it was shown.');
    }
    const sentAt = Date.now();
    await alice!.client.command('boom');
    for (const p of [bob!, carol!]) await until(() => p.texts().includes('boom'), 'the timed message');
    const m = bob!.of('message').find((e) => e.text === 'boom')!;
    expect(m.expiresAt).toBeGreaterThanOrEqual(sentAt + 1_000 - 200);
    expect(m.expiresAt).toBeLessThanOrEqual(Date.now() + 1_000 + 200);
    expect(alice!.of('message').find((e) => e.self && e.text === 'boom')?.expiresAt).toBe(m.expiresAt);
    expect(carol!.of('message').find((e) => e.text === 'boom')?.expiresAt).toBe(m.expiresAt);
    for (const p of [alice!, bob!, carol!]) await until(() => p.of('expired').some((e) => e.id === m.id), 'expired', 5_000);
    // On proven time (±100 ms here): not before the expiry minus the radius.
    expect(Date.now()).toBeGreaterThanOrEqual(m.expiresAt! - 150);
  });

  it('theExpiryRidesInThePubHintAndPlainMessagesHaveNone', async () => {
    const [alice, bob] = await s.room(['alice', 'bob'], { timeSource: provenTime() });
    const hints: (number | undefined)[] = [];
    s.wire.inbound = (_line, h) => {
      if (h.t === 'msg' && h.kind === 'app') hints.push(h.exp);
      return 'pass';
    };
    await alice!.client.command('plain');
    await until(() => bob!.texts().includes('plain'), 'plain');
    expect(bob!.of('message').find((e) => e.text === 'plain')?.expiresAt).toBeUndefined();
    await alice!.client.command('/ttl 1h');
    await until(() => bob!.of('ttl').length === 1, 'ttl');
    await alice!.client.command('timed');
    await until(() => bob!.texts().includes('timed'), 'timed');
    expect(bob!.of('message').find((e) => e.text === 'timed')?.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
    // Two application messages reached bob (the timer came in a commit); only the timed one
    // carried the hint, its expiry.
    expect(hints).toHaveLength(2);
    expect(hints.filter((h) => h !== undefined)).toEqual([bob!.of('message').find((e) => e.text === 'timed')?.expiresAt]);
    await alice!.client.command('/ttl off');
    await until(() => bob!.of('ttl').length === 2, 'ttl off');
    expect(bob!.last('ttl')).toMatchObject({ ms: 0 });
  });

  it('aMemberWithoutProvenTimeHidesTimedMessagesAndShowsThemOnceProven', async () => {
    const carolTime = provenTime();
    const { peer: alice, link } = await s.founder('alice', { timeSource: provenTime() });
    const carol = await s.joiner('carol', link, { timeSource: carolTime });
    await until(() => carol.of('joined').length === 1 && alice.of('member-joined').length === 1, 'carol in');
    await s.subscribed([alice, carol], 'carol subscribed');
    carolTime.up = false;
    await alice.client.command('/ttl 1h');
    await until(() => carol.of('ttl').length === 1, 'ttl');
    await alice.client.command('secret');
    await until(() => carol.of('time').some((e) => e.state === 'unproven'), 'time unproven', 5_000);
    expect(carol.texts()).not.toContain('secret');
    carolTime.up = true;
    await until(() => carol.texts().includes('secret'), 'shown once proven', 5_000);
    expect(carol.last('time')).toMatchObject({ state: 'proven' });
  });

  it('aLateJoinerLearnsTheRoomTimerAndItsOwnMessagesAreTimed', async () => {
    const { peer: alice, link } = await s.founder('alice', { timeSource: provenTime() });
    const bob = await s.joiner('bob', link, { timeSource: provenTime() });
    await until(() => bob.of('joined').length === 1 && alice.of('member-joined').length === 1, 'bob in');
    await s.subscribed([alice, bob], 'bob subscribed');
    await alice.client.command('/ttl 1h');
    await until(() => bob.of('ttl').length === 1, 'the ttl event');
    const carol = await s.joiner('carol', link, { timeSource: provenTime() });
    // The timer is in the Welcome's group state: in force, and shown, as soon as carol has joined.
    await until(() => carol.of('joined').length === 1, 'carol in');
    expect(carol.of('ttl')).toHaveLength(1);
    expect(carol.last('ttl')).toMatchObject({ ms: 3_600_000, self: false, from: 'the room' });
    expect(carol.last('ttl')!.text).toContain('yours too');
    await carol.client.command('from the newcomer');
    await until(() => alice.texts().includes('from the newcomer') && bob.texts().includes('from the newcomer'), "carol's message");
    expect(alice.of('message').find((e) => e.text === 'from the newcomer')?.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
    // Only the newcomer is told: bob shows nothing more.
    expect(bob.of('ttl')).toHaveLength(1);
  });

  it('aTimerSetWhileTheNewcomerIsOnItsWayReachesIt', async () => {
    const { peer: alice, link } = await s.founder('alice', { timeSource: provenTime() });
    const bob = await s.joiner('bob', link, { timeSource: provenTime() });
    await until(() => bob.of('joined').length === 1, 'bob in');
    await s.subscribed([alice, bob], 'bob subscribed');
    // The relay holds carol's Welcome (made with no timer in force) while alice sets one.
    let held: (() => void) | undefined;
    s.wire.inbound = (line, h, body) => {
      if (h.t !== 'welcome' || held) return 'pass';
      const frame = encodeFrame(h, body);
      held = () => line.deliver(frame);
      return 'drop';
    };
    const carol = s.joiner('carol', link, { timeSource: provenTime() });
    await until(() => held !== undefined, 'the Welcome held');
    await alice.client.command('/ttl 1h');
    await until(() => bob.of('ttl').length === 1, 'bob sees the timer');
    s.wire.inbound = () => 'pass';
    held!();
    const c = await carol;
    await until(() => c.of('joined').length === 1, 'carol in');
    // Her Welcome opened the epoch before the timer: the commit that set it reaches her after.
    await until(() => c.of('ttl').length === 1, 'the timer at carol', 10_000);
    expect(c.last('ttl')).toMatchObject({ ms: 3_600_000, from: 'alice' });
    await c.client.command('after the timer');
    await until(() => bob.texts().includes('after the timer'), "carol's message at bob");
    expect(bob.of('message').find((e) => e.text === 'after the timer')).toMatchObject({ expiresAt: expect.any(Number) as number });
    expect(bob.of('ttl')).toHaveLength(1);
  });

  it('twoMembersSettingTheTimerAtOnceEndWithOneTimerAtEveryMember', async () => {
    const [alice, bob, carol] = await s.room(['alice', 'bob', 'carol'], { timeSource: provenTime() });
    // Both commit at once; the relay takes one, the other is made again on top of it.
    await Promise.all([alice!.client.command('/ttl 1h'), bob!.client.command('/ttl 5m')]);
    const final = (p: NonNullable<typeof alice>) => p.last('ttl')?.ms;
    await until(() => [alice!, bob!, carol!].every((p) => p.of('ttl').length === 2), 'both changes at every member');
    expect(new Set([alice!, bob!, carol!].map(final)).size).toBe(1);
    await carol!.client.command('one timer');
    await until(() => alice!.texts().includes('one timer'), "carol's message");
    const m = alice!.of('message').find((e) => e.text === 'one timer')!;
    expect(m.expiresAt).toBeGreaterThan(Date.now() + final(alice!)! - 10_000);
    expect(m.untimed).toBeUndefined();
  });

  it('sendingATimedMessageWithoutProvenTimeIsRefused', async () => {
    const t = provenTime();
    const [alice, bob] = await s.room(['alice', 'bob'], { timeSource: t });
    await alice!.client.command('/ttl 30s');
    t.up = false;
    await alice!.client.command('not without proven time');
    expect(alice!.last('error')).toMatchObject({ code: 'E_TIME_UNPROVEN' });
    // Time proven again, a marker goes through: the refused message never went.
    t.up = true;
    await alice!.client.command('marker');
    await until(() => bob!.texts().includes('marker'), 'the marker');
    expect(bob!.texts()).not.toContain('not without proven time');
  });

  it('aBrowserStyleClientProvesTimeThroughTheRelayRtPath', async () => {
    const viaRelay = { timeViaRelay: [{ name: 'relay server 0', address: '0', publicKey: roughtime.publicKey }] };
    const [alice, bob] = await s.room(['alice', 'bob'], viaRelay);
    await alice!.client.command('/ttl 1h');
    await alice!.client.command('via the relay');
    await until(() => bob!.texts().includes('via the relay'), 'shown on time proven through the relay', 10_000);
    expect(s.wire.rtAsked.length).toBeGreaterThan(0);
    expect(s.wire.rtAsked.every((n) => n === 0)).toBe(true);
    expect(roughtime.stats().replies).toBeGreaterThan(0);
    expect(bob!.of('time').at(-1)).toMatchObject({ state: 'proven' });
  });

  it('aJoinerUsesTheLinksTimeServersThroughTheRelayByDefault', async () => {
    const { peer: alice, link } = await s.founder('alice', {
      timeViaRelay: [{ name: 'relay server 0', address: '0', publicKey: roughtime.publicKey }],
      linkTimeServers: [{ host: '127.0.0.1', port: 2002, publicKey: roughtime.publicKey }],
    });
    expect(link).toMatch(/&t=/);
    const bob = await s.joiner('bob', link); // no time options: the link's t= through the relay
    await until(() => bob.of('joined').length === 1, 'bob in');
    await s.subscribed([alice, bob], 'bob subscribed');
    await alice.client.command('/ttl 1h');
    await alice.client.command('by the link');
    await until(() => bob.texts().includes('by the link'), 'shown on the link servers', 10_000);
    expect(s.wire.rtAsked.length).toBeGreaterThan(0);
  });
});

/**
 * The room's message timer as authenticated group state (timer.ts, GroupContext extension
 * 0xf5a3): set by a commit, the same at every member of an epoch, in a newcomer's Welcome; any
 * member may change it, but only it: a commit by a member who is not an admin that changes or
 * drops the policy is refused, and a malformed timer is refused from anyone.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes, randomId } from '../protocol/ids.js';
import type { GroupSession } from './api.js';
import { createE2ee } from './index.js';
import { allowedByPolicy } from './rules.js';
import { POLICY_EXTENSION, encodePolicy } from './policy.js';
import { TIMER_EXTENSION, decodeTimer, encodeTimer, timerIn } from './timer.js';
import { LIMITS } from '../protocol/limits.js';

/** A room made with one E2ee instance, so that a newcomer can join it later. */
async function timedRoom(names: string[]) {
  const e2ee = createE2ee();
  const id = randomId();
  const secret = randomBytes(32);
  const creator = await e2ee.createIdentity();
  const first = await e2ee.createGroup(creator, names[0]!, id, { secret });
  const sessions: GroupSession[] = [first];
  const join = async (name: string, admitter: GroupSession, others: GroupSession[]) => {
    const pending = await e2ee.createJoinRequest(await e2ee.createIdentity(), name, id, secret);
    const p = await admitter.add(e2ee.parseJoinRequest(pending.request)!, secret);
    await admitter.confirm(p);
    for (const o of others) expect((await o.receive(p.commit)).kind).toBe('commit');
    const r = await e2ee.joinFromWelcome(pending, p.welcome!, creator.fingerprint);
    if (!r.ok) throw new Error(r.message);
    return r.session;
  };
  for (const n of names.slice(1)) sessions.push(await join(n, first, sessions.slice(1)));
  return { sessions, join, secret };
}

describe('the room timer', () => {
  it('encodes exactly one version-1 timer within the limits; anything else decodes to nothing', () => {
    expect(decodeTimer(encodeTimer(60_000))).toBe(60_000);
    expect(decodeTimer(encodeTimer(0))).toBe(0);
    expect(() => encodeTimer(LIMITS.maxTtlMs + 1)).toThrow(TypeError);
    expect(() => encodeTimer(1.5)).toThrow(TypeError);
    const over = encodeTimer(LIMITS.maxTtlMs);
    new DataView(over.buffer).setUint32(1, LIMITS.maxTtlMs + 1);
    for (const bad of [new Uint8Array(0), new Uint8Array([1, 0, 0, 0]), new Uint8Array([2, 0, 0, 0, 1]), new Uint8Array([1, 0, 0, 0, 1, 0]), over])
      expect(decodeTimer(bad)).toBeUndefined();
    const ext = (ms: number) => ({ extensionType: TIMER_EXTENSION, extensionData: encodeTimer(ms) });
    expect(timerIn([])).toBe(0);
    expect(timerIn([ext(5_000), ext(5_000)])).toBeUndefined(); // two timers: neither
  });

  it('timerIsGroupState: a commit sets it, every member of the epoch has it, the policy stays', async () => {
    const { sessions } = await timedRoom(['alice', 'bob', 'carol']);
    const [alice, bob, carol] = sessions as [GroupSession, GroupSession, GroupSession];
    const policy = alice.policy();
    const p = await alice.setTimer(60_000);
    expect(p).toMatchObject({ timer: 60_000, policyChanged: false });
    await alice.confirm(p);
    for (const s of [bob, carol]) expect(await s.receive(p.commit)).toMatchObject({ kind: 'commit', timer: 60_000, policyChanged: false, by: { name: 'alice' } });
    for (const s of [alice, bob, carol]) {
      expect(s.timer()).toBe(60_000);
      expect(s.policy()).toEqual(policy);
    }
    // A commit that does not change it says nothing of it; a ban's new secret keeps it.
    const u = await alice.update();
    expect(u).not.toHaveProperty('timer');
    await alice.confirm(u);
    expect(await bob.receive(u.commit)).not.toHaveProperty('timer');
    const c = await alice.changeSecret(randomBytes(32));
    await alice.confirm(c);
    expect(await bob.receive(c.commit)).toMatchObject({ kind: 'commit', policyChanged: true });
    expect(bob.timer()).toBe(60_000);
  });

  it('aNewcomerHasTheTimerFromItsWelcome', async () => {
    const { sessions, join } = await timedRoom(['alice', 'bob']);
    const [alice, bob] = sessions as [GroupSession, GroupSession];
    const p = await bob.setTimer(3_600_000);
    await bob.confirm(p);
    await alice.receive(p.commit);
    const dave = await join('dave', alice, [bob]);
    expect(dave.timer()).toBe(3_600_000);
  });

  it('aNonAdminMaySetTheTimerButNotChangeThePolicy', async () => {
    const { sessions } = await timedRoom(['alice', 'bob', 'carol']);
    const [alice, bob, carol] = sessions as [GroupSession, GroupSession, GroupSession];
    const set = await bob.setTimer(30_000);
    await bob.confirm(set);
    for (const s of [alice, carol]) expect(await s.receive(set.commit)).toMatchObject({ kind: 'commit', timer: 30_000, by: { name: 'bob' } });
    // A commit of bob's that changes the policy extension (a new invite secret, the timer kept) is refused by all.
    const grab = await bob.changeSecret(randomBytes(32));
    for (const s of [alice, carol]) expect(await s.receive(grab.commit)).toMatchObject({ kind: 'refused', by: { name: 'bob' } });
    expect(alice.timer()).toBe(30_000);
  });

  it('aNonAdminCommitThatDropsOrAltersThePolicyBesideTheTimerIsRefused; a malformed timer from anyone', () => {
    const admin = randomBytes(32);
    const policy = { secret: randomBytes(32), admins: [admin] };
    const held = encodePolicy(policy);
    const pol = (data: Uint8Array) => ({ extensionType: POLICY_EXTENSION, extensionData: data });
    const tim = (data: Uint8Array) => ({ extensionType: TIMER_EXTENSION, extensionData: data });
    const gce = (extensions: { extensionType: number; extensionData: Uint8Array }[], senderLeafIndex = 1) =>
      ({ proposal: { proposalType: 'group_context_extensions', groupContextExtensions: { extensions } }, senderLeafIndex }) as unknown as Parameters<typeof allowedByPolicy>[1][number];
    const tree = [] as Parameters<typeof allowedByPolicy>[2]; // leaf 1 is nobody's: not an admin
    const current = [pol(held)];
    const ok = (list: Parameters<typeof gce>[0]) => allowedByPolicy(policy, [gce(list)], tree, false, current);
    expect(ok([pol(held), tim(encodeTimer(60_000))])).toBe(true); // only the timer
    expect(ok([tim(encodeTimer(60_000)), pol(held)])).toBe(true); // in any order
    expect(ok([tim(encodeTimer(60_000))])).toBe(false); // the policy dropped
    expect(ok([pol(encodePolicy({ ...policy, secret: randomBytes(32) })), tim(encodeTimer(60_000))])).toBe(false); // a new secret
    expect(ok([pol(encodePolicy({ ...policy, admins: [admin, randomBytes(32)] })), tim(encodeTimer(60_000))])).toBe(false); // an admin more
    expect(ok([pol(held), tim(encodeTimer(60_000)), { extensionType: 0xf5ff, extensionData: new Uint8Array(1) }])).toBe(false); // something else
    expect(ok([pol(held), tim(new Uint8Array([1, 0xff, 0xff, 0xff, 0xff]))])).toBe(false); // malformed timer
    expect(ok([pol(held), tim(encodeTimer(1_000)), tim(encodeTimer(2_000))])).toBe(false); // two timers
    // Without a policy (groups made without one) a malformed timer is still refused.
    expect(allowedByPolicy(undefined, [gce([tim(new Uint8Array([9]))])], tree, false)).toBe(false);
    expect(allowedByPolicy(undefined, [gce([tim(encodeTimer(5_000))])], tree, false)).toBe(true);
  });
});

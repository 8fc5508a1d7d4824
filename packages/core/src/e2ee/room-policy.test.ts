/**
 * The room's policy as authenticated group state (policy.ts): only an admin (the creator) may
 * remove another member or change the policy, every member refuses a commit that breaks it,
 * anyone may leave, and a ban's new invite secret reaches every member inside the commit.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes, randomId } from '../protocol/ids.js';
import type { GroupSession } from './api.js';
import { createE2ee } from './index.js';
import { mlsRoom } from '../testing/room.js';
import { decodePolicy, encodePolicy } from './policy.js';
import { absenceAllowed, allowedByPolicy } from './rules.js';

const room = mlsRoom;

describe('the room policy', () => {
  it('names the creator as the only admin and carries the invite secret', async () => {
    const { secret, creator, sessions } = await room(['alice', 'bob']);
    for (const s of sessions) {
      expect(s.policy()?.secret).toEqual(secret);
      expect(s.policy()?.admins).toEqual([creator.fingerprint]);
    }
  });

  it('aRemovalByANonAdminIsRefusedByEveryMember: the commit is not applied, the victim stays', async () => {
    const { sessions, leaf } = await room(['alice', 'bob', 'carol']);
    const [alice, bob, carol] = sessions as [GroupSession, GroupSession, GroupSession];
    const p = await bob.remove([leaf(bob, 'carol')]);
    for (const s of [alice, carol]) {
      const r = await s.receive(p.commit);
      expect(r).toMatchObject({ kind: 'refused', epoch: 1, by: { name: 'bob' } });
      expect(s.epoch()).toBe(1);
      expect(s.members().map((m) => m.name)).toContain('carol');
    }
    // The refusing members go on together: an admin's commit of the same epoch works for both.
    const ok = await alice.update();
    await alice.confirm(ok);
    expect((await carol.receive(ok.commit)).kind).toBe('commit');
    expect(carol.epochAuthenticator()).toEqual(alice.epochAuthenticator());
  });

  it('aNonAdminCannotChangeThePolicy (a ban of its own, or a new secret)', async () => {
    const { sessions } = await room(['alice', 'bob', 'carol']);
    const [alice, bob] = sessions as [GroupSession, GroupSession, GroupSession];
    const p = await bob.changeSecret(randomBytes(32));
    expect((await alice.receive(p.commit)).kind).toBe('refused');
    expect(alice.epoch()).toBe(1);
  });

  it('anyMemberMayRemoveTheAbsent: a removal marked as for absence is applied by every member, and says so', async () => {
    const { sessions, leaf } = await room(['alice', 'bob', 'carol']);
    const [alice, bob, carol] = sessions as [GroupSession, GroupSession, GroupSession];
    const p = await bob.remove([leaf(bob, 'carol')], { absent: true });
    await bob.confirm(p);
    expect(await alice.receive(p.commit)).toMatchObject({ kind: 'commit', absent: true, by: { name: 'bob' }, removed: [{ name: 'carol' }], left: [] });
    expect(await carol.receive(p.commit)).toMatchObject({ kind: 'removed', absent: true, by: { name: 'bob' } });
    expect(alice.epochAuthenticator()).toEqual(bob.epochAuthenticator());
    // An admin's kick is not marked: the victim is told it was removed, not that it was absent.
    const { sessions: s2, leaf: l2 } = await room(['alice', 'bob']);
    const kick = await s2[0]!.remove([l2(s2[0]!, 'bob')]);
    await s2[0]!.confirm(kick);
    const r = await s2[1]!.receive(kick.commit);
    expect(r.kind).toBe('removed');
    expect(r).not.toHaveProperty('absent');
  });

  it('theAbsenceMarkOnlyRemoves: under it, an Add or a policy change is refused', () => {
    const policy = { secret: randomBytes(32), admins: [randomBytes(32)] };
    const remove = { proposal: { proposalType: 'remove', remove: { removed: 1 } }, senderLeafIndex: 2 } as const;
    const add = { proposal: { proposalType: 'add', add: { keyPackage: {} } }, senderLeafIndex: 2 } as const;
    const gce = { proposal: { proposalType: 'group_context_extensions', groupContextExtensions: { extensions: [] } }, senderLeafIndex: 2 } as const;
    type P = Parameters<typeof allowedByPolicy>[1];
    expect(absenceAllowed(3, [remove])).toBe(true);
    expect(absenceAllowed(3, [remove, add] as unknown as P)).toBe(false);
    expect(absenceAllowed(3, [remove, gce] as unknown as P)).toBe(false);
    // An empty tree has nobody left to remove the absent: refused, whatever the proposals.
    expect(allowedByPolicy(policy, [remove], [], true)).toBe(false);
    // Without the mark, the same removal by a non-admin is refused (leaf 2 is nobody's admin here).
    expect(allowedByPolicy(policy, [remove], [], false)).toBe(false);
  });

  it('oneMemberCannotEmptyTheRoomAsAbsent: at most as many removed as remain, never the committer alone', async () => {
    const r = (removed: number) => ({ proposal: { proposalType: 'remove', remove: { removed } }, senderLeafIndex: 0 }) as const;
    expect(absenceAllowed(4, [r(1), r(2)])).toBe(true); // 2 removed, 2 remain
    expect(absenceAllowed(5, [r(1), r(2), r(3)])).toBe(false); // 3 removed, 2 remain
    expect(absenceAllowed(3, [r(1), r(2)])).toBe(false); // the committer alone
    expect(absenceAllowed(2, [r(1)])).toBe(false);
    // With real sessions: our own code makes no such commit (every member would refuse it)...
    const { sessions, leaf } = await room(['alice', 'bob', 'mallory']);
    const [alice, bob, mallory] = sessions as [GroupSession, GroupSession, GroupSession];
    await expect(mallory.remove([leaf(mallory, 'alice'), leaf(mallory, 'bob')], { absent: true })).rejects.toMatchObject({ code: 'E_USAGE' });
    // ...one it may make is applied; then, two left, neither may remove the other as absent.
    const p = await mallory.remove([leaf(mallory, 'alice')], { absent: true });
    await mallory.confirm(p);
    expect(await bob.receive(p.commit)).toMatchObject({ kind: 'commit', absent: true });
    await expect(bob.remove([leaf(bob, 'mallory')], { absent: true })).rejects.toMatchObject({ code: 'E_USAGE' });
    void alice;
  });

  it('anyMemberMayLeave: a leave proposal committed by a non-admin is applied', async () => {
    const { sessions } = await room(['alice', 'bob', 'carol']);
    const [alice, bob, carol] = sessions as [GroupSession, GroupSession, GroupSession];
    const proposal = await carol.proposeLeave();
    for (const s of [alice, bob]) expect((await s.receive(proposal)).kind).toBe('proposal');
    const p = await bob.update(); // bob commits the pending leave proposal
    await bob.confirm(p);
    const r = await alice.receive(p.commit);
    expect(r).toMatchObject({ kind: 'commit', left: [{ name: 'carol' }] });
    expect(alice.members().map((m) => m.name)).not.toContain('carol');
  });

  it('aBanChangesTheInviteSecretForEveryMember, in a commit the banned member cannot read (ts-mls createCommit patch)', async () => {
    const { secret, sessions, leaf } = await room(['alice', 'bob', 'carol']);
    const [alice, bob, carol] = sessions as [GroupSession, GroupSession, GroupSession];
    const removal = await alice.remove([leaf(alice, 'carol')]);
    await alice.confirm(removal);
    expect(await bob.receive(removal.commit)).toMatchObject({ kind: 'commit', policyChanged: false, removed: [{ name: 'carol' }], left: [], by: { name: 'alice' } });
    expect((await carol.receive(removal.commit)).kind).toBe('removed');
    const fresh = randomBytes(32);
    const change = await alice.changeSecret(fresh);
    expect(change.policyChanged).toBe(true);
    await alice.confirm(change);
    expect(await bob.receive(change.commit)).toMatchObject({ kind: 'commit', policyChanged: true, by: { name: 'alice' } });
    for (const s of [alice, bob]) {
      expect(s.policy()?.secret).toEqual(fresh);
      expect(s.policy()?.secret).not.toEqual(secret);
    }
    expect(bob.epochAuthenticator()).toEqual(alice.epochAuthenticator());
    // carol kept her state: she never sees the new secret.
    expect((await carol.receive(change.commit)).kind).toBe('rejected');
    expect(carol.policy()?.secret).toEqual(secret);
  });

  it('encodes and decodes exactly; anything else is refused', () => {
    const p = { secret: randomBytes(32), admins: [randomBytes(32), randomBytes(32)] };
    expect(decodePolicy(encodePolicy(p))).toEqual(p);
    const bytes = encodePolicy(p);
    expect(decodePolicy(bytes.subarray(0, bytes.length - 1))).toBeUndefined();
    expect(decodePolicy(new Uint8Array([2, ...bytes.subarray(1)]))).toBeUndefined();
    expect(decodePolicy(new Uint8Array(34))).toBeUndefined();
    expect(() => encodePolicy({ secret: randomBytes(31), admins: [] })).toThrow();
  });
});

describe('re-admission (a member that fell behind joins again under its own identity)', () => {
  it('anyMemberMayReadmitAnIdentityInPlaceOfItsOldLeaf, and a replayed join request is refused', async () => {
    const e2ee = createE2ee();
    const id = randomId();
    const secret = randomBytes(32);
    const aliceId = await e2ee.createIdentity();
    const alice = await e2ee.createGroup(aliceId, 'alice', id, { secret });
    const bobId = await e2ee.createIdentity();
    const carolId = await e2ee.createIdentity();
    const bobJoin = await e2ee.createJoinRequest(bobId, 'bob', id, secret);
    const carolJoin = await e2ee.createJoinRequest(carolId, 'carol', id, secret);
    const p = await alice.add([e2ee.parseJoinRequest(bobJoin.request)!, e2ee.parseJoinRequest(carolJoin.request)!], secret);
    await alice.confirm(p);
    const carol = ((await e2ee.joinFromWelcome(carolJoin, p.welcome!, aliceId.fingerprint)) as { session: GroupSession }).session;
    // A replay of bob's first join request (the relay kept it): refused, nothing committed.
    expect(await alice.checkJoin(e2ee.parseJoinRequest(bobJoin.request)!, secret)).toBe('E_INVITE_PROOF');
    // bob lost his state: he asks again with a new KeyPackage. carol (not an admin) re-admits him.
    const again = await e2ee.createJoinRequest(bobId, 'bob', id, secret);
    const req = e2ee.parseJoinRequest(again.request)!;
    expect(await carol.checkJoin(req, secret)).toBeUndefined(); // his own name is not "taken"
    const r = await carol.add(req, secret);
    await carol.confirm(r);
    expect(await alice.receive(r.commit)).toMatchObject({ kind: 'commit', removed: [{ name: 'bob' }], added: [{ name: 'bob' }] });
    const bob = await e2ee.joinFromWelcome(again, r.welcome!, aliceId.fingerprint);
    expect(bob.ok).toBe(true);
    if (bob.ok) expect(bob.session.epochAuthenticator()).toEqual(alice.epochAuthenticator());
    expect(alice.members().filter((m) => m.name === 'bob')).toHaveLength(1);
  });
});

/**
 * An attacker review found that a ban leaked the new invite secret to the banned member: the
 * secret travelled in the very commit that removed it, which it could still decrypt (ts-mls
 * shows every proposal to the processing callback before it notices the removal). A modified
 * client (here: ours, with ts-mls wrapped to keep what the callback is shown) could make the
 * new link and come back under a new identity. The secret now changes in a second commit, in an
 * epoch the removed member never enters (docs/protocol.md "Room policy").
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatInvite, parseInvite } from '@safehouse/core/protocol';
import { World, until, type Member } from './testing/members.js';
import { POLICY_EXTENSION } from '../../core/src/e2ee/policy.js';

/** What removed members were shown in the commit that removed them. */
const leaked: Uint8Array[] = [];

vi.mock('ts-mls', async (importOriginal) => {
  const mls = await importOriginal<typeof import('ts-mls')>();
  type Args = Parameters<typeof mls.processPrivateMessage>;
  return {
    ...mls,
    processPrivateMessage: async (state: Args[0], pm: Args[1], psk: Args[2], cs: Args[3], callback?: Args[4]) => {
      const seen: Uint8Array[] = [];
      const spy: Args[4] = (incoming) => {
        if (incoming.kind === 'commit')
          for (const p of incoming.proposals)
            if (p.proposal.proposalType === 'group_context_extensions')
              for (const e of p.proposal.groupContextExtensions.extensions) if (e.extensionType === POLICY_EXTENSION) seen.push(e.extensionData);
        return callback ? callback(incoming) : 'accept';
      };
      const r = await mls.processPrivateMessage(state, pm, psk, cs, spy);
      if (r.kind === 'newState' && r.newState.groupActiveState.kind === 'removedFromGroup') leaked.push(...seen);
      return r;
    },
  };
});

const world = new World();
afterEach(() => world.end());

describe('a ban does not leak the new link', () => {
  it('aBannedMemberNeverSeesTheNewSecret, and its old link admits nobody under any name', async () => {
    const server = await world.server();
    const { link, all } = await world.room(server, ['alice', 'bob', 'carol']);
    const [alice, bob, carol] = all as [Member, Member, Member];
    const [picked] = alice.client.remove((m) => m.name === 'carol', { ban: true });
    expect(await picked!.landed).toBe(true);
    await until(() => carol.of('left').some((e) => e.reason === 'removed'), 'carol told she was removed');
    await until(() => alice.of('invite').length === 2 && bob.of('invite').length === 1, 'the new link at alice and bob');
    // carol was told after she had processed the commit that removed her: what she saw is in `leaked`.
    expect(leaked).toEqual([]); // the commit that removed carol carried no policy
    const old = parseInvite(link);
    const fresh = parseInvite(alice.of('invite')[1]!.link);
    if (!old.ok || !old.invite.room || !fresh.ok || !fresh.invite.room) throw new Error('links');
    expect(Buffer.from(fresh.invite.room.secret).equals(Buffer.from(old.invite.room.secret))).toBe(false);
    // Whatever carol still holds is the old secret: a link she makes from it admits nobody.
    const back = await world.member('caroline', formatInvite(old.invite.base, old.invite.room));
    await until(() => back.of('error').some((e) => e.code === 'E_LINK_REVOKED'), 'refused as a revoked link', 20_000);
    expect(back.of('joined')).toHaveLength(0);
  }, 60_000);
});

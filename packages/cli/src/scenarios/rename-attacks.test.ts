/**
 * Renaming after admission (issue 12, attack 2; docs/protocol.md "Room policy"), with real
 * clients on the real relay. A member's manipulated client makes an ordinary commit (an empty
 * one, which always carries an UpdatePath, RFC 9420 §12.4) whose UpdatePath leaf carries a new
 * credential: the name "aIice" (capital I), a look-alike of the member alice. Before the fix
 * every member applied it: no name rule ran, no event was raised, and "aIice" showed in every
 * member list. Every member must refuse it, say who tried, and keep the name it knew.
 *
 * How the client is manipulated: ts-mls as this test file loads it (vi.mock) makes mallory's
 * commits from a tree in which her own leaf already carries the new name, as an attacker's own
 * build of the client would; `createUpdatePath` copies that credential into the UpdatePath's
 * leaf node. The state handed back keeps her old name, so her own client's check (a commit of
 * ours never changes our credential) does not stop the attacker: only receivers can.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { capturing, names, publish, tapped } from '../testing/attacker.js';
import { marker, roomOf, until, World, type Member } from '../testing/members.js';

const rename = vi.hoisted(() => ({ from: '', to: '' }));

vi.mock('ts-mls', async (importOriginal) => {
  const mls = await importOriginal<typeof import('ts-mls')>();
  type Tree = Parameters<typeof mls.createCommit>[0]['state']['ratchetTree'];
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const named = (tree: Tree, leaf: number, name: string): Tree | undefined => {
    const node = tree[leaf * 2];
    if (node?.nodeType !== 'leaf') return undefined;
    const copy = tree.slice();
    copy[leaf * 2] = { ...node, leaf: { ...node.leaf, credential: { credentialType: 'basic', identity: utf8(name) } } };
    return copy;
  };
  const createCommit: typeof mls.createCommit = async (context, options) => {
    const { state } = context;
    const me = state.privatePath.leafIndex;
    const node = state.ratchetTree[me * 2];
    const mine = node?.nodeType === 'leaf' && node.leaf.credential.credentialType === 'basic' ? new TextDecoder().decode(node.leaf.credential.identity) : undefined;
    const renamed = rename.from !== '' && mine === rename.from ? named(state.ratchetTree, me, rename.to) : undefined;
    if (renamed === undefined) return mls.createCommit(context, options);
    const r = await mls.createCommit({ ...context, state: { ...state, ratchetTree: renamed } }, options);
    return { ...r, newState: { ...r.newState, ratchetTree: named(r.newState.ratchetTree, me, rename.from) ?? r.newState.ratchetTree } };
  };
  return { ...mls, createCommit };
});

let world: World;
afterEach(() => {
  rename.from = '';
  return world?.end();
});

describe('renaming after admission', () => {
  it('aMemberWhoRenamesItselfToALookAlikeByItsUpdatePathIsRefusedByEveryMember', { timeout: 90_000 }, async () => {
    world = new World();
    const server = await world.server();
    const tap = tapped({});
    const cap = capturing();
    const { link, all } = await world.room(server, ['alice', 'bob', 'mallory'], { mallory: { e2ee: cap.e2ee, transport: tap.transport } });
    const [alice, bob] = all as [Member, Member, Member];
    await marker(alice, bob);

    // mallory's own code: an empty commit whose UpdatePath leaf says "aIice".
    const session = cap.sessions.at(-1)!;
    rename.from = 'mallory';
    rename.to = 'aIice';
    const p = await session.update();
    rename.from = '';
    await publish(session, roomOf(link), (b) => tap.send(b), p, false);

    for (const m of [alice, bob]) {
      await until(() => m.of('error').some((e) => e.code === 'E_CREDENTIAL_CHANGED'), `${m.name} refuses the rename`, 20_000);
      const e = m.of('error').find((x) => x.code === 'E_CREDENTIAL_CHANGED')!;
      expect(e.message).toMatch(/^mallory tried to change its own name or key/);
      expect(e.room).toBe(roomOf(link));
    }
    // The room goes on without the commit: a message after it arrives, and nobody is called aIice.
    await marker(alice, bob);
    await marker(bob, alice);
    for (const m of [alice, bob]) {
      expect(await names(m)).toEqual(['alice', 'bob', 'mallory']);
      expect(m.of('member-joined').some((e) => e.name === 'aIice')).toBe(false);
      expect(m.of('member-left')).toEqual([]);
    }
  });
});

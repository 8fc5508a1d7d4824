/**
 * RFC 9420 §12.4 and §16.6 through ts-mls 1.6.4, checked on the bytes our sessions send:
 * a commit that removes a member (kick, or a leave proposal committed by another member)
 * carries an UpdatePath, and the removed member — even keeping every secret it had just before
 * — cannot decrypt anything sent after. (ts-mls 2.0 rc shipped Remove commits without a path;
 * this test is the guard for the version we pin.)
 */
import {
  type CiphersuiteImpl,
  type ClientState,
  createCommit,
  createGroup,
  createProposal,
  decodeMlsMessage,
  defaultCapabilities,
  encodeMlsMessage,
  defaultLifetime,
  emptyPskIndex,
  generateKeyPackage,
  joinGroup,
  processPrivateMessage,
} from 'ts-mls';
import { protectApplicationData, unprotectPrivateMessage } from 'ts-mls/messageProtection.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomId } from '../protocol/ids.js';
import type { GroupSession } from './api.js';
import { encodeAad } from './aad.js';
import { basicCredential } from './credential.js';
import { MlsGroupSession } from './group.js';
import { KEY_RETENTION, clientConfig, loadSuite } from './suite.js';

let cs: CiphersuiteImpl;
beforeAll(async () => {
  cs = await loadSuite();
});

const enc = new TextEncoder();
const noSecrets = { secretFor: () => undefined };

/** Three members built with ts-mls directly, so the test keeps each immutable state it wants. */
async function threeMembers() {
  const room = randomId();
  const kps = await Promise.all(
    ['a', 'b', 'c'].map((n) => generateKeyPackage(basicCredential(n), defaultCapabilities(), defaultLifetime, [], cs)),
  );
  const [ka, kb, kc] = kps as [(typeof kps)[0], (typeof kps)[0], (typeof kps)[0]];
  const a0 = await createGroup(enc.encode(room), ka.publicPackage, ka.privatePackage, [], cs, clientConfig());
  const add = await createCommit(
    { state: a0, cipherSuite: cs },
    {
      extraProposals: [kb, kc].map((k) => ({ proposalType: 'add' as const, add: { keyPackage: k.publicPackage } })),
      ratchetTreeExtension: true,
    },
  );
  const b = await joinGroup(
    add.welcome!,
    kb.publicPackage,
    kb.privatePackage,
    emptyPskIndex,
    cs,
    undefined,
    undefined,
    clientConfig(),
  );
  const c = await joinGroup(
    add.welcome!,
    kc.publicPackage,
    kc.privatePackage,
    emptyPskIndex,
    cs,
    undefined,
    undefined,
    clientConfig(),
  );
  const wrap = (s: ClientState) => new MlsGroupSession(room, s, cs, noSecrets);
  return { room, a: wrap(add.newState), b: wrap(b), c: wrap(c), bState: b, cState: c };
}

function privateMessage(bytes: Uint8Array) {
  const m = decodeMlsMessage(bytes, 0)![0];
  if (m.wireformat !== 'mls_private_message') throw new Error(`expected a PrivateMessage, got ${m.wireformat}`);
  return m.privateMessage;
}

/** What the removed member sees inside the commit, decrypting it with its pre-removal state. */
async function commitAsSeenBy(state: ClientState, commit: Uint8Array) {
  const pm = privateMessage(commit);
  const r = await unprotectPrivateMessage(
    state.keySchedule.senderDataSecret,
    pm,
    state.secretTree,
    state.ratchetTree,
    state.groupContext,
    KEY_RETENTION,
    cs,
  );
  if (r.content.content.contentType !== 'commit') throw new Error('expected a commit');
  return r.content.content.commit;
}

async function cannotDecrypt(state: ClientState, message: Uint8Array): Promise<boolean> {
  try {
    const r = await processPrivateMessage(state, privateMessage(message), emptyPskIndex, cs);
    return r.kind !== 'applicationMessage';
  } catch {
    return true;
  }
}

async function assertRemovedForGood(
  a: GroupSession,
  b: GroupSession,
  c: GroupSession,
  cBefore: ClientState,
  commit: Uint8Array,
) {
  // The commit's path is what makes the new epoch secret unknown to c (§12.4.2 commit_secret).
  const seen = await commitAsSeenBy(cBefore, commit);
  expect(seen.path).toBeDefined();
  expect(seen.path!.nodes.length).toBeGreaterThan(0);
  expect((await b.receive(commit)).kind).toBe('commit');
  expect((await c.receive(commit)).kind).toBe('removed');
  for (const sender of [a, b]) {
    const m = await sender.encrypt(enc.encode('after removal'), { room: a.room, id: randomId() });
    expect(await cannotDecrypt(cBefore, m)).toBe(true);
    expect((await c.receive(m)).kind).toBe('rejected');
  }
  // Nor a commit after that.
  const next = await a.update();
  await a.confirm(next);
  expect((await b.receive(next.commit)).kind).toBe('commit');
  const m = await a.encrypt(enc.encode('two epochs later'), { room: a.room, id: randomId() });
  expect(await cannotDecrypt(cBefore, m)).toBe(true);
}

describe('removal through ts-mls 1.6.4', () => {
  it('removedMemberCannotDecrypt: a kick commit carries an UpdatePath', async () => {
    const { a, b, c, cState } = await threeMembers();
    const p = await a.remove([c.myLeaf()]);
    await a.confirm(p);
    await assertRemovedForGood(a, b, c, cState, p.commit);
  });

  it('removedMemberCannotDecrypt: a committed leave proposal carries an UpdatePath', async () => {
    const { a, b, c, cState } = await threeMembers();
    const leave = await c.proposeLeave();
    expect((await a.receive(leave)).kind).toBe('proposal');
    expect((await b.receive(leave)).kind).toBe('proposal');
    const p = await a.remove([c.myLeaf()]);
    await a.confirm(p);
    await assertRemovedForGood(a, b, c, cState, p.commit);
  });

  it('an update commit carries an UpdatePath (post-compromise security)', async () => {
    const { a, cState } = await threeMembers();
    const p = await a.update();
    expect((await commitAsSeenBy(cState, p.commit)).path).toBeDefined();
  });

  it('memberCannotImpersonateAnotherLeaf', async () => {
    const { a, b, c, bState } = await threeMembers();
    // b can derive every leaf's ratchet (RFC 9420 §9), but cannot sign as a (§6.1).
    const as = async (leaf: number) => {
      const m = await protectApplicationData(
        bState.signaturePrivateKey,
        bState.keySchedule.senderDataSecret,
        enc.encode('I am a'),
        encodeAad({ room: a.room, id: randomId() }),
        bState.groupContext,
        bState.secretTree,
        leaf,
        bState.clientConfig.paddingConfig,
        cs,
      );
      return encodeMlsMessage({
        version: 'mls10',
        wireformat: 'mls_private_message',
        privateMessage: m.privateMessage,
      });
    };
    expect((await c.receive(await as(a.myLeaf()))).kind).toBe('rejected');
    // The same construction under b's own leaf is accepted: only the signature made the difference.
    expect((await c.receive(await as(b.myLeaf()))).kind).toBe('message');
    // The forgery consumed nothing: a's real first message still decrypts.
    const real = await a.encrypt(enc.encode('I am a'), { room: a.room, id: randomId() });
    const got = await c.receive(real);
    expect(got.kind === 'message' && got.sender.leaf).toBe(a.myLeaf());
  });

  it('aRemoveProposalForAnotherMemberIsNeverCommittedByUs', async () => {
    const { a, b, c, bState } = await threeMembers();
    const p = await createProposal(bState, false, { proposalType: 'remove', remove: { removed: c.myLeaf() } }, cs);
    const bytes = encodeMlsMessage(p.message);
    // A proposal on its own is only ever a leave: this one is refused, and nothing stays pending.
    expect(await a.receive(bytes)).toEqual({ kind: 'rejected' });
    expect(a.pendingProposals()).toBe(0);
    const commit = await a.update();
    expect(commit.removed).toEqual([]);
    await a.confirm(commit);
    expect((await c.receive(commit.commit)).kind).toBe('commit');
    expect(a.members().map((m) => m.leaf)).toEqual([0, 1, 2]);
    void b;
  });

  it('an add is refused without a join proof', async () => {
    const { a } = await threeMembers();
    const req = {
      room: a.room,
      name: 'd',
      publicKey: new Uint8Array(32),
      fingerprint: new Uint8Array(32),
      keyPackage: new Uint8Array(10),
      proof: new Uint8Array(32),
      issuedAt: Date.now(),
    };
    await expect(a.add(req)).rejects.toMatchObject({ code: 'E_INVITE_PROOF' });
    await expect(a.add(req, randomBytes(32))).rejects.toMatchObject({ code: 'E_USAGE' });
  });
});

import type { LeafNode, ProposalWithSender, RatchetTree } from 'ts-mls';
import { describe, expect, it } from 'vitest';
import { credentialChangeIn, sameCredential } from './credentialChange.js';
import { basicCredential } from './credential.js';

// Only the fields the check reads: the credential and the signature key (RFC 9420 §7.2).
const leaf = (name: string, key: number): LeafNode =>
  ({ credential: basicCredential(name), signaturePublicKey: new Uint8Array(32).fill(key) }) as unknown as LeafNode;
const tree = (...leaves: (LeafNode | undefined)[]): RatchetTree =>
  leaves.flatMap((l, i) => [l ? { nodeType: 'leaf', leaf: l } : undefined, ...(i < leaves.length - 1 ? [undefined] : [])]) as unknown as RatchetTree;
const update = (sender: number, l: LeafNode): ProposalWithSender =>
  ({ senderLeafIndex: sender, proposal: { proposalType: 'update', update: { leafNode: l } } }) as unknown as ProposalWithSender;
const remove = (sender: number, removed: number): ProposalWithSender =>
  ({ senderLeafIndex: sender, proposal: { proposalType: 'remove', remove: { removed } } }) as unknown as ProposalWithSender;

describe('a leaf keeps the credential it was admitted with (issue 12, attack 2)', () => {
  const t = tree(leaf('alice', 1), leaf('bob', 2), leaf('mallory', 3));

  it('an UpdatePath leaf with the same name and key changes nothing', () => {
    expect(sameCredential(leaf('alice', 1), leaf('alice', 1))).toBe(true);
    expect(credentialChangeIn(t, [], 2, leaf('mallory', 3))).toBeUndefined();
    expect(credentialChangeIn(t, [remove(0, 1)], 0, leaf('alice', 1))).toBeUndefined();
    expect(credentialChangeIn(t, [])).toBeUndefined();
  });

  it('renameByUpdatePath: another name (a look-alike) in the committer\'s UpdatePath leaf', () => {
    expect(credentialChangeIn(t, [], 2, leaf('aIice', 3))).toBe(2);
    expect(credentialChangeIn(t, [], 2, leaf('mallory ', 3))).toBe(2);
  });

  it('keySwapByUpdatePath: another signature key under the same name', () => {
    expect(credentialChangeIn(t, [], 2, leaf('mallory', 9))).toBe(2);
  });

  it('renameByUpdateProposal: an Update proposal (by reference or by value) with another name or key', () => {
    expect(credentialChangeIn(t, [update(1, leaf('ADMlN', 2))], 0, leaf('alice', 1))).toBe(1);
    expect(credentialChangeIn(t, [update(1, leaf('bob', 7))], 0, leaf('alice', 1))).toBe(1);
    expect(credentialChangeIn(t, [update(1, leaf('bob', 2))], 0, leaf('alice', 1))).toBeUndefined();
    // An Update from a leaf with nothing to compare (blank, or out of the tree) is a change.
    expect(credentialChangeIn(tree(leaf('alice', 1), undefined), [update(1, leaf('bob', 2))], 0)).toBe(1);
    expect(credentialChangeIn(t, [update(9, leaf('bob', 2))])).toBe(9);
  });

  it('a credential that is not basic is never the same', () => {
    const x509 = { credential: { credentialType: 'x509', certificates: [] }, signaturePublicKey: new Uint8Array(32).fill(3) } as unknown as LeafNode;
    expect(sameCredential(leaf('mallory', 3), x509)).toBe(false);
    expect(credentialChangeIn(t, [], 2, x509)).toBe(2);
  });
});

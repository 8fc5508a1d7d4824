/**
 * Names and keys bound for good (issue 12, attack 2; docs/protocol.md "Room policy").
 *
 * RFC 9420 lets a member replace its own leaf node: by an Update proposal (§12.1.2) or by the
 * leaf node of a commit's UpdatePath (§12.4.2), and the new leaf may carry another credential
 * (here: another display name) and another signature key. Every name rule (NFKC, the allowed
 * alphabet, no look-alike of another member's name, a name held for a member removed as absent)
 * is checked when a member is admitted; a rename afterwards would skip them all, and a new
 * signature key would skip the key pins. So a leaf keeps, for as long as it is in the group, the
 * credential and signature key it was admitted with: every member refuses (as it refuses any
 * commit the room's policy forbids) a commit or proposal that changes either. A new name or key
 * needs a new admission (a join request, checked like any other).
 *
 * Our own commits never change our leaf's credential (ts-mls copies it into the UpdatePath's
 * leaf node); `group.ts` checks that too before sending one.
 */
import type { CiphersuiteImpl, ClientState, LeafNode, PrivateMessage, ProposalWithSender, RatchetTree } from 'ts-mls';
import { unprotectPrivateMessage } from 'ts-mls/messageProtection.js';
import { bytesEqual } from './bytes.js';

/** The leaf node at leaf index `leaf`, or undefined for a blank or missing leaf (RFC 9420 §7.1: node 2i). */
export function leafNodeAt(tree: RatchetTree, leaf: number): LeafNode | undefined {
  const n = tree[leaf * 2];
  return n?.nodeType === 'leaf' ? n.leaf : undefined;
}

/** Whether `next` carries the same basic credential and signature key as `current`. */
export function sameCredential(current: LeafNode, next: LeafNode): boolean {
  const a = current.credential;
  const b = next.credential;
  return (
    a.credentialType === 'basic' &&
    b.credentialType === 'basic' &&
    bytesEqual(a.identity, b.identity) &&
    bytesEqual(current.signaturePublicKey, next.signaturePublicKey)
  );
}

/**
 * The leaf whose credential or signature key a commit (its proposals, and the leaf node of its
 * UpdatePath, `pathLeaf`, for the committer `committer`) or a proposal would change, judged
 * against `tree` (the epoch's tree before the change); undefined when none would. An Update
 * proposal with no current leaf to compare (a blank or unknown sender) counts as a change.
 */
export function credentialChangeIn(
  tree: RatchetTree,
  proposals: readonly ProposalWithSender[],
  committer?: number,
  pathLeaf?: LeafNode,
): number | undefined {
  for (const p of proposals) {
    if (p.proposal.proposalType !== 'update') continue;
    const leaf = p.senderLeafIndex;
    const current = leaf === undefined ? undefined : leafNodeAt(tree, leaf);
    if (current === undefined || !sameCredential(current, p.proposal.update.leafNode)) return leaf ?? -1;
  }
  if (pathLeaf !== undefined && committer !== undefined) {
    const current = leafNodeAt(tree, committer);
    if (current === undefined || !sameCredential(current, pathLeaf)) return committer;
  }
  return undefined;
}

/**
 * The leaf node of a commit's UpdatePath (undefined when it has none), read before ts-mls
 * applies the commit: its callback for the room's policy sees the proposals only. This decrypts
 * the commit once more (pure: the state is not changed, nothing is wiped; ts-mls decrypts it
 * again when it processes it) and throws where processing would (a commit of another epoch, a
 * bad signature), so the caller's one opaque `rejected` covers both.
 */
export async function commitPathLeaf(state: ClientState, pm: PrivateMessage, cs: CiphersuiteImpl): Promise<LeafNode | undefined> {
  const r = await unprotectPrivateMessage(
    state.keySchedule.senderDataSecret,
    pm,
    state.secretTree,
    state.ratchetTree,
    state.groupContext,
    state.clientConfig.keyRetentionConfig,
    cs,
  );
  const content = r.content.content;
  return content.contentType === 'commit' ? content.commit.path?.leafNode : undefined;
}

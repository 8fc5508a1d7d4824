/**
 * The member list, read from the ratchet tree (RFC 9420 §7.1: leaf i is node 2i): each
 * non-blank leaf's credential name and signature key. And the difference a commit makes.
 */
import type { ProposalWithSender, RatchetTree } from 'ts-mls';
import type { Member } from './api.js';
import { bytesEqual } from './bytes.js';
import { nameOf } from './credential.js';
import { fingerprintOf } from './identity.js';

/** The member at leaf `leaf`, or undefined for a blank or missing leaf. */
export function memberAt(tree: RatchetTree, leaf: number): Member | undefined {
  const n = tree[leaf * 2];
  if (n?.nodeType !== 'leaf') return undefined;
  const publicKey = n.leaf.signaturePublicKey.slice();
  // Every credential in a tree passed our authentication service, so the name is valid;
  // the fallback only keeps this function total.
  const name = nameOf(n.leaf.credential) ?? '?';
  return { leaf, name, publicKey, fingerprint: fingerprintOf(publicKey) };
}

export function membersOf(tree: RatchetTree): Member[] {
  const out: Member[] = [];
  for (let leaf = 0; leaf * 2 < tree.length; leaf++) {
    const m = memberAt(tree, leaf);
    if (m !== undefined) out.push(m);
  }
  return out;
}

export interface MemberChanges {
  readonly added: readonly Member[];
  readonly removed: readonly Member[];
  readonly updated: readonly Member[];
}

/** Leaves removed by a set of proposals (RFC 9420 §12.1.3). */
export function removedLeaves(proposals: readonly ProposalWithSender[]): Set<number> {
  const out = new Set<number>();
  for (const p of proposals) if (p.proposal.proposalType === 'remove') out.add(p.proposal.remove.removed);
  return out;
}

/**
 * What a commit did to the member list. A leaf named in a Remove is `removed`, and if the same
 * commit reuses it for an Add, its new occupant is `added`; a leaf that keeps its occupant but
 * changes name or signature key (an Update or a commit path may carry a new credential,
 * RFC 9420 §12.1.2) is `updated` — that is a key change the pins must judge.
 */
export function diffMembers(
  before: readonly Member[],
  after: readonly Member[],
  removed: ReadonlySet<number>,
): MemberChanges {
  const old = new Map(before.map((m) => [m.leaf, m]));
  const added: Member[] = [];
  const updated: Member[] = [];
  for (const m of after) {
    const prev = old.get(m.leaf);
    if (prev === undefined || removed.has(m.leaf)) added.push(m);
    else if (prev.name !== m.name || !bytesEqual(prev.publicKey, m.publicKey)) updated.push(m);
  }
  return { added, removed: before.filter((m) => removed.has(m.leaf)), updated };
}

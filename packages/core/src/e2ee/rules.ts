/**
 * The rules every member applies to a commit or proposal before ts-mls may apply it
 * (docs/protocol.md "Room policy"): the room's policy (policy.ts: who may remove others or change
 * the group context), the message timer any member may change (timer.ts), removals for absence,
 * and a direct room's two members. A commit that breaks one is refused by every member alike
 * (group.ts `#receive`).
 */
import type { ClientState, ProposalWithSender } from 'ts-mls';
import { toBase64Url } from '../protocol/ids.js';
import { bytesEqual, utf8 } from './bytes.js';
import { nameOf } from './credential.js';
import { fingerprintOf } from './identity.js';
import { memberAt, membersOf, removedLeaves } from './members.js';
import { POLICY_EXTENSION, decodePolicy, directPair, encodePolicy, isAdmin, type RoomPolicy } from './policy.js';
import { TIMER_EXTENSION, timerIn } from './timer.js';

/** A Remove proposal by the member it removes: a leave (RFC 9420 §12.1.3). */
export function isLeave(p: ProposalWithSender): boolean {
  return p.proposal.proposalType === 'remove' && p.senderLeafIndex === p.proposal.remove.removed;
}

/**
 * The authenticated data of a commit that removes members for absence (docs/protocol.md
 * "Absent members"): signed with the commit, so every member sees the same claim. Any member
 * may make one; it removes, and does nothing else (no Add, no policy change).
 */
export const ABSENT_MARK = utf8('safehouse absent v1');

/**
 * A removal for absence may remove at most as many members as it leaves, and never leaves its
 * committer alone: one member cannot empty a room of those who would re-admit the others.
 */
export function absenceAllowed(members: number, proposals: readonly ProposalWithSender[]): boolean {
  if (!proposals.every((p) => p.proposal.proposalType === 'remove')) return false;
  const removed = removedLeaves(proposals).size;
  const remaining = members - removed;
  return removed <= remaining && remaining >= 2;
}

export type Extensions = ClientState['groupContext']['extensions'];

/** Whether `next` (a GroupContextExtensions proposal's whole list) changes nothing but the timer, and keeps the policy exactly. */
function onlyTheTimer(policy: Uint8Array, next: Extensions): boolean {
  const kept = next.filter((e) => e.extensionType !== TIMER_EXTENSION);
  const only = kept[0];
  return kept.length === 1 && only?.extensionType === POLICY_EXTENSION && bytesEqual(only.extensionData, policy);
}

/**
 * The room's policy (policy.ts), applied to what a commit or proposal carries: a member may
 * remove itself (leave); removing another member, or changing the group context, takes an
 * admin, but for the message timer (timer.ts): any member may change that, and only that, in a
 * commit that keeps the policy byte for byte. A timer that does not decode is refused from
 * anyone. Without a policy (groups made without one) nothing else is restricted.
 */
export function allowedByPolicy(policy: RoomPolicy | undefined, proposals: readonly ProposalWithSender[], tree: ClientState['ratchetTree'], absent: boolean, current?: Extensions): boolean {
  if (absent) return absenceAllowed(membersOf(tree).length, proposals);
  for (const p of proposals)
    if (p.proposal.proposalType === 'group_context_extensions' && timerIn(p.proposal.groupContextExtensions.extensions) === undefined) return false;
  if (!policy) return true;
  const admin = (leaf: number | undefined) => {
    const m = leaf === undefined ? undefined : memberAt(tree, leaf);
    return m !== undefined && isAdmin(policy, m.fingerprint);
  };
  // A re-admission: the same commit adds a KeyPackage signed by the removed leaf's own identity
  // (only that identity can sign one), under the same name: any member may commit it.
  const readmitted = new Map<string, string | undefined>();
  for (const p of proposals)
    if (p.proposal.proposalType === 'add') readmitted.set(toBase64Url(p.proposal.add.keyPackage.leafNode.signaturePublicKey), nameOf(p.proposal.add.keyPackage.leafNode.credential));
  const sameIdentity = (leaf: number) => {
    const m = memberAt(tree, leaf);
    return m !== undefined && readmitted.get(toBase64Url(m.publicKey)) === m.name;
  };
  for (const p of proposals) {
    const t = p.proposal.proposalType;
    if (t === 'remove' && p.senderLeafIndex !== p.proposal.remove.removed && !admin(p.senderLeafIndex) && !sameIdentity(p.proposal.remove.removed)) return false;
    if (t === 'group_context_extensions') {
      const held = current?.find((e) => e.extensionType === POLICY_EXTENSION)?.extensionData ?? encodePolicy(policy);
      if (!admin(p.senderLeafIndex) && !onlyTheTimer(held, p.proposal.groupContextExtensions.extensions)) return false;
      const ext = p.proposal.groupContextExtensions.extensions.find((e) => e.extensionType === POLICY_EXTENSION);
      const next = ext && decodePolicy(ext.extensionData);
      if (!next) return false; // the policy is never dropped or malformed
      if (!samePair(directPair(policy), directPair(next))) return false; // a room never becomes, or stops being, direct
    }
  }
  return directAllowed(policy, proposals, tree);
}

function samePair(a: [Uint8Array, Uint8Array] | undefined, b: [Uint8Array, Uint8Array] | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && bytesEqual(a[0], b[0]) && bytesEqual(a[1], b[1]);
}

/**
 * A direct room holds its two parties and no one else (policy.ts): every Add is a KeyPackage of
 * one of them, and after the commit each has at most one leaf.
 */
export function directAllowed(policy: RoomPolicy | undefined, proposals: readonly ProposalWithSender[], tree: ClientState['ratchetTree']): boolean {
  const pair = directPair(policy);
  if (pair === undefined) return true;
  const removed = removedLeaves(proposals);
  const keys = membersOf(tree).filter((m) => !removed.has(m.leaf)).map((m) => m.fingerprint);
  for (const p of proposals) if (p.proposal.proposalType === 'add') keys.push(fingerprintOf(p.proposal.add.keyPackage.leafNode.signaturePublicKey));
  const a = keys.filter((k) => bytesEqual(k, pair[0])).length;
  const b = keys.filter((k) => bytesEqual(k, pair[1])).length;
  return a <= 1 && b <= 1 && a + b === keys.length;
}

/** What a commit changed of the group context: the policy (a ban's new invite secret), the timer (its new value). */
export function contextChanges(before: Extensions, after: Extensions): { policyChanged: boolean; timer?: number } {
  const data = (list: Extensions, type: number) => list.find((e) => e.extensionType === type)?.extensionData;
  const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) => (a === undefined ? b === undefined : b !== undefined && bytesEqual(a, b));
  const policyChanged = !same(data(before, POLICY_EXTENSION), data(after, POLICY_EXTENSION));
  const was = timerIn(before) ?? 0;
  const now = timerIn(after) ?? 0;
  return { policyChanged, ...(was === now ? {} : { timer: now }) };
}

/**
 * The room's policy, as authenticated group state: a GroupContext extension (RFC 9420 §12.1.7,
 * private-use type 0xf5a2) that every member holds, that only a commit can change, and that
 * travels only inside encrypted handshake messages and Welcomes (the relay never sees it).
 *
 *   u8 version (1) | 32-byte invite secret | u8 n | n × 32-byte admin fingerprints
 *   u8 version (2) | the same | 32-byte fingerprint of the invitee     (a direct room)
 *
 * - The admins (the room's creator) are the only members who may remove another member or
 *   change the policy; every member's client refuses a commit that breaks this (group.ts).
 * - The invite secret is the one join proofs are checked against. A ban changes it in the same
 *   commit as the removal: a link the banned person kept no longer admits anyone.
 * - A direct room (docs/protocol.md "Direct messages") names its two parties for good: its one
 *   admin (the inviter) and `direct` (the invitee). Every member's client refuses a commit that
 *   would add anyone else, hold a third leaf, or change who the two are (group.ts).
 */
import { bytesEqual, concat } from './bytes.js';

export const POLICY_EXTENSION = 0xf5a2;
const VERSION = 1;
const DIRECT_VERSION = 2;
const FP = 32;
export const MAX_ADMINS = 16;

export interface RoomPolicy {
  readonly secret: Uint8Array;
  readonly admins: readonly Uint8Array[];
  /** A direct room's invitee (its inviter is the one admin). */
  readonly direct?: Uint8Array;
}

export function encodePolicy(p: RoomPolicy): Uint8Array {
  if (p.secret.length !== 32) throw new TypeError('"secret" expected 32 bytes');
  if (p.admins.length < 1 || p.admins.length > MAX_ADMINS || p.admins.some((a) => a.length !== FP))
    throw new TypeError(`"admins" expected 1 to ${MAX_ADMINS} fingerprints of 32 bytes`);
  if (p.direct === undefined) return concat(new Uint8Array([VERSION]), p.secret, new Uint8Array([p.admins.length]), ...p.admins);
  if (p.direct.length !== FP || p.admins.length !== 1) throw new TypeError('a direct room expects one admin and a 32-byte "direct" fingerprint');
  return concat(new Uint8Array([DIRECT_VERSION]), p.secret, new Uint8Array([1]), p.admins[0]!, p.direct);
}

/** Undefined for anything that is not exactly a version-1 or version-2 (direct) policy. */
export function decodePolicy(data: Uint8Array): RoomPolicy | undefined {
  if (!(data instanceof Uint8Array) || data.length < 2 + 32) return undefined;
  const direct = data[0] === DIRECT_VERSION;
  if (data[0] !== VERSION && !direct) return undefined;
  const n = data[33] ?? 0;
  if (n < 1 || n > MAX_ADMINS || (direct && n !== 1) || data.length !== 34 + n * FP + (direct ? FP : 0)) return undefined;
  const admins: Uint8Array[] = [];
  for (let i = 0; i < n; i++) admins.push(data.slice(34 + i * FP, 34 + (i + 1) * FP));
  const secret = data.slice(1, 33);
  return direct ? { secret, admins, direct: data.slice(34 + FP) } : { secret, admins };
}

/** A direct room's two parties: its inviter and its invitee. */
export function directPair(policy: RoomPolicy | undefined): [Uint8Array, Uint8Array] | undefined {
  return policy?.direct === undefined ? undefined : [policy.admins[0]!, policy.direct];
}

export function isAdmin(policy: RoomPolicy | undefined, fingerprint: Uint8Array): boolean {
  return policy?.admins.some((a) => bytesEqual(a, fingerprint)) === true;
}

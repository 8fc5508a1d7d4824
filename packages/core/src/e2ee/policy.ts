/**
 * The room's policy, as authenticated group state: a GroupContext extension (RFC 9420 §12.1.7,
 * private-use type 0xf5a2) that every member holds, that only a commit can change, and that
 * travels only inside encrypted handshake messages and Welcomes (the relay never sees it).
 *
 *   u8 version (1) | 32-byte invite secret | u8 n | n × 32-byte admin fingerprints
 *
 * - The admins (the room's creator) are the only members who may remove another member or
 *   change the policy; every member's client refuses a commit that breaks this (group.ts).
 * - The invite secret is the one join proofs are checked against. A ban changes it in the same
 *   commit as the removal: a link the banned person kept no longer admits anyone.
 */
import { bytesEqual, concat } from './bytes.js';

export const POLICY_EXTENSION = 0xf5a2;
const VERSION = 1;
const FP = 32;
export const MAX_ADMINS = 16;

export interface RoomPolicy {
  readonly secret: Uint8Array;
  readonly admins: readonly Uint8Array[];
}

export function encodePolicy(p: RoomPolicy): Uint8Array {
  if (p.secret.length !== 32) throw new TypeError('"secret" expected 32 bytes');
  if (p.admins.length < 1 || p.admins.length > MAX_ADMINS || p.admins.some((a) => a.length !== FP))
    throw new TypeError(`"admins" expected 1 to ${MAX_ADMINS} fingerprints of 32 bytes`);
  return concat(new Uint8Array([VERSION]), p.secret, new Uint8Array([p.admins.length]), ...p.admins);
}

/** Undefined for anything that is not exactly a version-1 policy. */
export function decodePolicy(data: Uint8Array): RoomPolicy | undefined {
  if (!(data instanceof Uint8Array) || data.length < 2 + 32 || data[0] !== VERSION) return undefined;
  const n = data[33] ?? 0;
  if (n < 1 || n > MAX_ADMINS || data.length !== 34 + n * FP) return undefined;
  const admins: Uint8Array[] = [];
  for (let i = 0; i < n; i++) admins.push(data.slice(34 + i * FP, 34 + (i + 1) * FP));
  return { secret: data.slice(1, 33), admins };
}

export function isAdmin(policy: RoomPolicy | undefined, fingerprint: Uint8Array): boolean {
  return policy?.admins.some((a) => bytesEqual(a, fingerprint)) === true;
}

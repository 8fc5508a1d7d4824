/**
 * The relay's side of the membership authority (docs/protocol.md "Membership authority";
 * @safehouse/core/protocol relayAuth.ts builds the signed statements). It checks Ed25519
 * signatures by an epoch's relay key, synchronously (node:crypto), so frames of one connection
 * are still handled in the order they came; and it gives each connection its nonce, derived
 * from a per-process secret and the connection's serial number (no bytes stored per connection).
 */
import { createHash, createHmac, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { subStatement, commitStatement, fromBase64Url, toBase64Url } from '@safehouse/core/protocol';

/** An epoch's relay key as the relay keeps it: the base64url text (compared) and the key object (verifies). */
export type EpochKey = { readonly text: string; readonly key: KeyObject };

/**
 * Undefined for anything that is not an Ed25519 public key in base64url. The key object is made
 * from a JWK (RFC 8037): the same key as from its DER form, about ten times faster with OpenSSL 3
 * (each commit needs one, on every relay of a cluster: bench/results/cluster-2026-12-05.md).
 */
export function epochKey(text: string): EpochKey | undefined {
  const raw = fromBase64Url(text);
  if (raw?.length !== 32) return undefined;
  try {
    return { text, key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(raw) }, format: 'jwk' }) };
  } catch {
    return undefined;
  }
}

function verifies(key: EpochKey, statement: Uint8Array, sig: string): boolean {
  const s = fromBase64Url(sig);
  if (s?.length !== 64) return false;
  try {
    return verify(null, statement, key.key, s);
  } catch {
    return false;
  }
}

export function verifySub(key: EpochKey, nonce: string, room: string, epoch: number, sig: string): boolean {
  return verifies(key, subStatement(nonce, room, epoch), sig);
}

export function verifyCommit(key: EpochKey, room: string, epoch: number, commit: Uint8Array, next: string, sig: string): boolean {
  const digest = createHash('sha256').update(commit).digest();
  return verifies(key, commitStatement(room, epoch, digest, next), sig);
}

/** Per-connection nonces: HMAC of the connection's serial number under a secret of this process. */
export class Nonces {
  readonly #secret = randomBytes(32);
  of(serial: number): string {
    return toBase64Url(createHmac('sha256', this.#secret).update(String(serial)).digest().subarray(0, 16));
  }
}

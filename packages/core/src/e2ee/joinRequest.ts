/**
 * The join request: the body of a `join` frame. Our own small binary format:
 *
 *   u8 version (= 1)
 *   lp(room id, UTF-8)        22 base64url characters
 *   lp(name, UTF-8)           must equal the name in the KeyPackage's credential
 *   lp(KeyPackage)            an MLSMessage (RFC 9420 §6) of wireformat mls_key_package
 *   lp(proof)                 32 bytes, see proof.ts
 *
 * `lp(x)` = uint32 big-endian length || x; nothing may follow the last field.
 * The decoded request takes the name and the public key from the KeyPackage (whose leaf node
 * the joiner signed, RFC 9420 §10.1), never from unauthenticated fields; the proof binds the
 * KeyPackage to the room under the invite secret.
 */
import { isId } from '../protocol/ids.js';
import type { JoinRequest } from './api.js';
import { ByteReader, concat, lengthPrefixed, u8, utf8, fromUtf8 } from './bytes.js';
import { MAX_NAME_BYTES } from './credential.js';
import { fingerprintOf } from './identity.js';
import { MAX_KEY_PACKAGE_BYTES, decodeKeyPackage } from './keyPackage.js';
import { PROOF_BYTES } from './proof.js';

export const JOIN_REQUEST_VERSION = 1;

export function encodeJoinRequest(room: string, name: string, keyPackage: Uint8Array, proof: Uint8Array): Uint8Array {
  return concat(
    u8(JOIN_REQUEST_VERSION),
    lengthPrefixed(utf8(room)),
    lengthPrefixed(utf8(name)),
    lengthPrefixed(keyPackage),
    lengthPrefixed(proof),
  );
}

/** Decodes a join request body; undefined for anything malformed. Never throws. */
export function decodeJoinRequest(body: Uint8Array): JoinRequest | undefined {
  if (!(body instanceof Uint8Array)) return undefined;
  const r = new ByteReader(body);
  if (r.u8() !== JOIN_REQUEST_VERSION) return undefined;
  const roomBytes = r.field(64);
  const nameBytes = r.field(MAX_NAME_BYTES);
  const keyPackage = r.field(MAX_KEY_PACKAGE_BYTES);
  const proof = r.field(PROOF_BYTES);
  if (!roomBytes || !nameBytes || !keyPackage || !proof || !r.done || proof.length !== PROOF_BYTES) return undefined;
  const room = fromUtf8(roomBytes);
  const claimedName = fromUtf8(nameBytes);
  if (!isId(room) || claimedName === undefined) return undefined;
  const kp = decodeKeyPackage(keyPackage);
  if (!kp || kp.name !== claimedName) return undefined;
  const leaf = kp.keyPackage.leafNode;
  // The middle of the lifetime (keyPackageLifetime in e2ee.ts: a day each side of its making).
  const issuedAt = 'lifetime' in leaf ? Number((leaf.lifetime.notBefore + leaf.lifetime.notAfter) / 2n) * 1000 : 0;
  return { room, name: kp.name, publicKey: kp.publicKey, fingerprint: fingerprintOf(kp.publicKey), keyPackage, proof, issuedAt };
}

/**
 * KeyPackages as they travel (RFC 9420 §10: an MLSMessage with wireformat mls_key_package),
 * decoded strictly: the whole input, canonical (re-encoding gives the same bytes), our cipher
 * suite, a basic credential with a valid name, a 32-byte Ed25519 key. The KeyPackage signature
 * (§10.1) is checked by ts-mls when the Add is committed (and by every receiver of the commit).
 */
import { type KeyPackage, decodeMlsMessage, encodeMlsMessage } from 'ts-mls';
import { bytesEqual } from './bytes.js';
import { nameOf } from './credential.js';
import { CIPHER_SUITE } from './suite.js';

/** Largest encoded KeyPackage we accept (a real one is ~300 bytes; grease adds a few). */
export const MAX_KEY_PACKAGE_BYTES = 4096;

export function encodeKeyPackage(keyPackage: KeyPackage): Uint8Array {
  return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage });
}

export interface DecodedKeyPackage {
  readonly keyPackage: KeyPackage;
  readonly name: string;
  readonly publicKey: Uint8Array;
}

/** Decodes and checks the shape of an encoded KeyPackage; undefined for anything else. */
export function decodeKeyPackage(bytes: Uint8Array): DecodedKeyPackage | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_KEY_PACKAGE_BYTES) return undefined;
  let decoded: ReturnType<typeof decodeMlsMessage>;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch {
    return undefined;
  }
  if (!decoded || decoded[1] !== bytes.length) return undefined;
  const msg = decoded[0];
  if (msg.version !== 'mls10' || msg.wireformat !== 'mls_key_package') return undefined;
  const kp = msg.keyPackage;
  if (kp.version !== 'mls10' || kp.cipherSuite !== CIPHER_SUITE) return undefined;
  if (kp.leafNode.leafNodeSource !== 'key_package') return undefined;
  const name = nameOf(kp.leafNode.credential);
  const publicKey = kp.leafNode.signaturePublicKey;
  if (name === undefined || publicKey.length !== 32) return undefined;
  try {
    if (!bytesEqual(encodeKeyPackage(kp), bytes)) return undefined;
  } catch {
    return undefined;
  }
  return { keyPackage: kp, name, publicKey: publicKey.slice() };
}

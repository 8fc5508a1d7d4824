/**
 * Ed25519 (RFC 8032), the only Roughtime signature scheme (RFC 10049 §5.2.1). WebCrypto where
 * the runtime has it (Node 20, current browsers); @noble/curves otherwise, with ZIP-215 off so
 * both paths accept exactly RFC 8032's strict set of signatures.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { abytes, concat, isBytes } from './bytes.js';

/** PKCS#8 prefix of an Ed25519 private key (RFC 8410 §7): the 32-byte seed follows. */
const PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

let webCryptoSupport: Promise<boolean> | undefined;

/** Probes once whether crypto.subtle knows Ed25519 (a known-good key must import). */
function hasWebCryptoEd25519(): Promise<boolean> {
  webCryptoSupport ??= (async () => {
    try {
      const pk = ed25519.getPublicKey(new Uint8Array(32));
      await crypto.subtle.importKey('raw', pk, { name: 'Ed25519' }, false, ['verify']);
      return true;
    } catch {
      return false;
    }
  })();
  return webCryptoSupport;
}

/** Verifies; returns false on any malformed input. Never throws. */
export async function verifyEd25519(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  if (!isBytes(publicKey, 32) || !isBytes(signature, 64) || !isBytes(message)) return false;
  try {
    if (await hasWebCryptoEd25519()) {
      const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
      return await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message);
    }
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** A signing key. The server holds one per role: the long-term key (offline) and the online key. */
export interface Ed25519Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/**
 * A signer from a 32-byte seed (RFC 8032 §5.1.5). The seed is copied into a non-extractable
 * WebCrypto key (or kept by noble's closure when WebCrypto lacks Ed25519); the caller still owns
 * and should wipe its own copy.
 */
export async function ed25519SignerFromSeed(seed: Uint8Array): Promise<Ed25519Signer> {
  abytes('seed', seed, 32);
  const publicKey = ed25519.getPublicKey(seed);
  if (await hasWebCryptoEd25519()) {
    const pkcs8 = concat(PKCS8_PREFIX, seed);
    const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']);
    pkcs8.fill(0);
    return {
      publicKey,
      sign: async (message) =>
        new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key, abytes('message', message))),
    };
  }
  const kept = seed.slice();
  return { publicKey, sign: (message) => Promise.resolve(ed25519.sign(abytes('message', message), kept)) };
}

/** Public key of a seed, without making a signer (tests and key tooling). */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(abytes('seed', seed, 32));
}

/**
 * The one MLS configuration Safehouse uses: cipher suite 1
 * (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519, RFC 9420 §17.1) on ts-mls's default
 * (WebCrypto) provider, our authentication service, and our key-retention limits.
 */
import {
  type CiphersuiteImpl,
  type ClientConfig,
  type KeyRetentionConfig,
  defaultKeyPackageEqualityConfig,
  defaultLifetimeConfig,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
} from 'ts-mls';
import { expand as hkdfExpand, extract as hkdfExtract } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual } from './bytes.js';
import { credentialAuthenticationService } from './credential.js';
import { type DeviceIdentity, signWithIdentity } from './identity.js';

export const CIPHER_SUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519' as const;

/**
 * RFC 9420 §14 (secret deletion) vs. §15 (out-of-order delivery): we keep
 * - the receiver data of the last 4 epochs, so a message sent just before a commit still
 *   decrypts after we processed the commit (the relay orders a room, so this covers races);
 * - up to 32 skipped generations per sender, for messages the relay delivers out of order;
 * - a forward ratchet of at most 1000 steps, so a sender cannot make us derive keys without end.
 */
export const KEY_RETENTION: KeyRetentionConfig = {
  retainKeysForEpochs: 4,
  retainKeysForGenerations: 32,
  maximumForwardRatchetSteps: 1000,
};

export function clientConfig(): ClientConfig {
  return {
    keyRetentionConfig: KEY_RETENTION,
    lifetimeConfig: defaultLifetimeConfig,
    keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
    // Padding is set per message by the session (size buckets, see group.ts).
    paddingConfig: { kind: 'padUntilLength', padUntilLength: 256 },
    authService: credentialAuthenticationService,
  };
}

/**
 * Loads the cipher suite implementation (once per E2ee instance; the caller caches it).
 *
 * ts-mls's default provider runs everything on WebCrypto. That is right for the public-key
 * operations (X25519 HPKE, Ed25519) and AES-GCM, but its HKDF and hash/HMAC import a key and
 * cross into the crypto thread pool for every call, and MLS makes hundreds of tiny KDF calls
 * per commit (the secret tree, RFC 9420 §9; the key schedule, §8): a 50-member room took
 * ~3× longer to build that way. So SHA-256, HMAC and HKDF (RFC 5869) run on @noble/hashes,
 * audited and synchronous; `nobleSuiteIsInterchangeable` in the tests checks that both give
 * the same bytes.
 */
export async function loadSuite(options: { webCryptoKdf?: boolean } = {}): Promise<CiphersuiteImpl> {
  const base = await getCiphersuiteImpl(getCiphersuiteFromName(CIPHER_SUITE));
  if (options.webCryptoKdf === true) return base;
  return {
    ...base,
    hash: {
      digest: (data) => Promise.resolve(sha256(data)),
      mac: (key, data) => Promise.resolve(hmac(sha256, key, data)),
      verifyMac: (key, mac, data) => Promise.resolve(bytesEqual(hmac(sha256, key, data), mac)),
    },
    kdf: {
      extract: (salt, ikm) => Promise.resolve(hkdfExtract(sha256, ikm, salt)),
      expand: (prk, info, len) => Promise.resolve(hkdfExpand(sha256, prk, info, len)),
      size: base.kdf.size,
    },
  };
}

/**
 * The suite as one identity uses it: identical, except that signing goes to the identity's
 * non-extractable key (the bytes ts-mls passes as `signKey` are only the identity's handle).
 */
export function suiteFor(base: CiphersuiteImpl, identity: DeviceIdentity): CiphersuiteImpl {
  return {
    ...base,
    signature: {
      sign: (handle, message) => signWithIdentity(identity, handle, message),
      verify: (publicKey, message, signature) => base.signature.verify(publicKey, message, signature),
      keygen: () => base.signature.keygen(),
    },
  };
}

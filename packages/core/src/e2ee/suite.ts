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

/** Loads the cipher suite implementation (once per E2ee instance; the caller caches it). */
export function loadSuite(): Promise<CiphersuiteImpl> {
  return getCiphersuiteImpl(getCiphersuiteFromName(CIPHER_SUITE));
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

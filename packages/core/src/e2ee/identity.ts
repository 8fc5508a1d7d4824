/**
 * Device identities: the Ed25519 key pair that is this device's MLS signature key (RFC 9420
 * §5.1.2 signature_key) and, hashed, its fingerprint.
 *
 * The private key is a non-extractable WebCrypto CryptoKey: no code, ours or a dependency's,
 * can read its bytes. ts-mls 1.6.4 keeps `signaturePrivateKey` as bytes in its state and hands
 * them to `Signature.sign`; we give it a random 32-byte *handle* instead, and the per-session
 * signer (suite.ts) maps that handle back to this CryptoKey. The handle is worthless on its own.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError, UsageError } from '../protocol/errors.js';
import type { Fingerprint, Identity } from './api.js';
import { bytesEqual, wipe } from './bytes.js';

/** SHA-256 of a raw Ed25519 public key: the fingerprint shown to users and put in links. */
export function fingerprintOf(publicKey: Uint8Array): Fingerprint {
  return sha256(publicKey);
}

let signWith: (id: DeviceIdentity, handle: Uint8Array, message: Uint8Array) => Promise<Uint8Array>;
let exportKey: (id: DeviceIdentity) => Promise<Uint8Array>;
let handleOf: (id: DeviceIdentity) => Uint8Array;

export class DeviceIdentity implements Identity {
  readonly publicKey: Uint8Array;
  readonly fingerprint: Fingerprint;
  #key: CryptoKey | undefined;
  /** Stands in for the private key inside ts-mls state; sessions get copies of it. */
  #handle: Uint8Array;

  private constructor(publicKey: Uint8Array, key: CryptoKey, handle: Uint8Array) {
    this.publicKey = publicKey;
    this.fingerprint = fingerprintOf(publicKey);
    this.#key = key;
    this.#handle = handle;
  }

  static {
    signWith = async (id, handle, message) => {
      const key = id.#key;
      if (key === undefined) throw new UsageError('E_USAGE', 'this identity was disposed');
      // A handle that is not ours means a state mix-up: refuse rather than sign with another key.
      if (!bytesEqual(handle, id.#handle))
        throw new CryptoError('E_INTERNAL', 'signing handle does not belong to this identity');
      return new Uint8Array(await crypto.subtle.sign('Ed25519', key, message));
    };
    handleOf = (id) => {
      if (id.#key === undefined) throw new UsageError('E_USAGE', 'this identity was disposed');
      return id.#handle.slice();
    };
    exportKey = async (id) => {
      const key = id.#key;
      if (key === undefined) throw new UsageError('E_USAGE', 'this identity was disposed');
      if (!key.extractable) throw new UsageError('E_USAGE', 'this identity was created without { exportable: true }');
      return new Uint8Array(await crypto.subtle.exportKey('pkcs8', key));
    };
  }

  /**
   * Generates a fresh identity on WebCrypto (Ed25519 is in Node ≥ 20 and current browsers).
   * `exportable` lets `exportIdentity` read the private key (nothing outside this module can).
   */
  static async generate(options: { exportable?: boolean } = {}): Promise<DeviceIdentity> {
    const exportable = options.exportable === true;
    const pair = (await crypto.subtle.generateKey('Ed25519', exportable, ['sign', 'verify'])) as CryptoKeyPair;
    const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    if (publicKey.length !== 32)
      throw new CryptoError('E_INTERNAL', `Ed25519 public key expected 32 bytes, got length=${publicKey.length}`);
    return new DeviceIdentity(publicKey, pair.privateKey, crypto.getRandomValues(new Uint8Array(32)));
  }

  /**
   * An identity from a PKCS#8 private key and its raw public key; checks that they belong
   * together by signing and verifying. The caller owns (and wipes) `pkcs8`.
   */
  static async fromPkcs8(
    pkcs8: Uint8Array,
    publicKey: Uint8Array,
    exportable: boolean,
  ): Promise<DeviceIdentity | undefined> {
    try {
      const key = await crypto.subtle.importKey('pkcs8', pkcs8, 'Ed25519', exportable, ['sign']);
      const pub = await crypto.subtle.importKey('raw', publicKey, 'Ed25519', true, ['verify']);
      const probe = crypto.getRandomValues(new Uint8Array(32));
      const sig = await crypto.subtle.sign('Ed25519', key, probe);
      if (!(await crypto.subtle.verify('Ed25519', pub, sig, probe))) return undefined;
      return new DeviceIdentity(publicKey.slice(), key, crypto.getRandomValues(new Uint8Array(32)));
    } catch {
      return undefined;
    }
  }

  get disposed(): boolean {
    return this.#key === undefined;
  }

  /** Drops the private key: every session using this identity can no longer sign. */
  dispose(): void {
    this.#key = undefined;
    wipe(this.#handle);
  }
}

/** Signs `message` with the identity's private key if `handle` is its signing handle. */
export function signWithIdentity(id: DeviceIdentity, handle: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  return signWith(id, handle, message);
}

/** A copy of the signing handle, for one ts-mls state (the state may wipe its copy). */
export function identityHandle(id: DeviceIdentity): Uint8Array {
  return handleOf(id);
}

/** The PKCS#8 private key of an identity created exportable. The caller wipes the result. */
export function exportPkcs8(id: DeviceIdentity): Promise<Uint8Array> {
  return exportKey(id);
}

/** Narrows an `Identity` from the api to ours, or throws a usage error that says what came. */
export function asDeviceIdentity(identity: Identity): DeviceIdentity {
  if (!(identity instanceof DeviceIdentity))
    throw new UsageError('E_USAGE', '"identity" expected an Identity made by createIdentity()');
  if (identity.disposed) throw new UsageError('E_USAGE', '"identity" was disposed');
  return identity;
}

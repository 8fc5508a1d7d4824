/**
 * Passphrase-encrypted identity files, so a device keeps its identity (and its pins stay
 * valid for others) across runs. Format, version 1:
 *
 *   "SHID" || u8 version (= 1) || u32 iterations || salt (16) || nonce (12) || ciphertext
 *
 * key = PBKDF2-HMAC-SHA-256(passphrase UTF-8, salt, iterations) (RFC 8018 §5.2), 256 bits;
 * ciphertext = AES-256-GCM(key, nonce, plaintext = public key (32) || PKCS#8 private key,
 * associated data = everything before the ciphertext). A wrong passphrase and a damaged file
 * are the same error (E_IDENTITY_LOCKED): which one it was is not said.
 */
import { CryptoError, UsageError } from '../protocol/errors.js';
import type { Identity } from './api.js';
import { ByteReader, concat, u8, utf8, wipe } from './bytes.js';
import { DeviceIdentity, asDeviceIdentity, exportPkcs8 } from './identity.js';

const MAGIC = utf8('SHID');
const VERSION = 1;
/** OWASP's 2023 figure for PBKDF2-HMAC-SHA-256; files record theirs, so it can rise later. */
export const DEFAULT_ITERATIONS = 600_000;
const MIN_ITERATIONS = 100_000;
const MAX_ITERATIONS = 10_000_000;

async function passphraseKey(
  passphrase: string,
  salt: Uint8Array,
  iterations: number,
  usage: 'encrypt' | 'decrypt',
): Promise<CryptoKey> {
  const pw = utf8(passphrase);
  try {
    const base = await crypto.subtle.importKey('raw', pw, 'PBKDF2', false, ['deriveBits']);
    const bits = new Uint8Array(
      await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, 256),
    );
    try {
      return await crypto.subtle.importKey('raw', bits, { name: 'AES-GCM' }, false, [usage]);
    } finally {
      wipe(bits);
    }
  } finally {
    wipe(pw);
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
}

/** Encrypts an identity created with `{ exportable: true }` under a passphrase. */
export async function exportIdentity(
  identity: Identity,
  passphrase: string,
  options: { iterations?: number } = {},
): Promise<Uint8Array> {
  const id = asDeviceIdentity(identity);
  if (typeof passphrase !== 'string' || passphrase.length === 0)
    throw new UsageError('E_USAGE', '"passphrase" expected a non-empty string');
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw new UsageError(
      'E_USAGE',
      `"iterations" expected an integer in [${MIN_ITERATIONS}, ${MAX_ITERATIONS}], got ${String(iterations)}`,
    );
  }
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const header = concat(MAGIC, u8(VERSION), u32(iterations), salt, nonce);
  const key = await passphraseKey(passphrase, salt, iterations, 'encrypt');
  const pkcs8 = await exportPkcs8(id);
  const plaintext = concat(id.publicKey, pkcs8);
  try {
    const ct = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: header }, key, plaintext),
    );
    return concat(header, ct);
  } finally {
    wipe(pkcs8);
    wipe(plaintext);
  }
}

/** Opens an identity file. `exportable` keeps the imported key exportable (to save it again). */
export async function importIdentity(
  bytes: Uint8Array,
  passphrase: string,
  options: { exportable?: boolean } = {},
): Promise<DeviceIdentity> {
  const locked = () =>
    new CryptoError('E_IDENTITY_LOCKED', 'the identity could not be opened (wrong passphrase or damaged file)');
  if (!(bytes instanceof Uint8Array) || typeof passphrase !== 'string') throw locked();
  const r = new ByteReader(bytes);
  const magic = [r.u8(), r.u8(), r.u8(), r.u8()];
  const version = r.u8();
  const iterations = r.u32();
  if (magic.some((b, i) => b !== MAGIC[i]) || version !== VERSION || iterations === undefined) throw locked();
  if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) throw locked();
  const headerLength = 4 + 1 + 4 + 16 + 12;
  if (bytes.length < headerLength + 32 + 16) throw locked();
  const salt = bytes.slice(9, 25);
  const nonce = bytes.slice(25, 37);
  const header = bytes.slice(0, headerLength);
  let plaintext: Uint8Array;
  try {
    const key = await passphraseKey(passphrase, salt, iterations, 'decrypt');
    plaintext = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: nonce, additionalData: header },
        key,
        bytes.subarray(headerLength),
      ),
    );
  } catch (cause) {
    throw new CryptoError('E_IDENTITY_LOCKED', 'the identity could not be opened (wrong passphrase or damaged file)', {
      cause,
    });
  }
  try {
    const id = await DeviceIdentity.fromPkcs8(
      plaintext.subarray(32),
      plaintext.subarray(0, 32),
      options.exportable === true,
    );
    if (id === undefined) throw locked();
    return id;
  } finally {
    wipe(plaintext);
  }
}

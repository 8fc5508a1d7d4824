/**
 * Passphrase-encrypted identity files, so a device keeps its identity (and its pins stay
 * valid for others) across runs. Format, version 2:
 *
 *   "SHID" || u8 version (= 2) || u8 log2(N) || u8 r || u8 p || salt (16) || nonce (12) || ciphertext
 *
 * key = scrypt(passphrase UTF-8, salt, N, r, p) (RFC 7914), 256 bits, through @noble/hashes
 * (the same code in browsers and Node); scrypt is memory-hard: each guess costs 128·r·N bytes
 * (128 MiB at the default N = 2^17, r = 8), which GPUs and ASICs cannot cheaply parallelise.
 * ciphertext = AES-256-GCM(key, nonce, plaintext = public key (32) || PKCS#8 private key,
 * associated data = everything before the ciphertext, so the cost parameters are authenticated).
 *
 * A wrong passphrase and a damaged file are the same error (E_IDENTITY_LOCKED): which one it was
 * is not said. Version 1 (PBKDF2-HMAC-SHA-256) was never written by a released build and is not
 * read. A file's cost is bounded on reading (at most 1 GiB of memory), so a crafted file cannot
 * make the reader allocate without limit.
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { CryptoError, UsageError } from '../protocol/errors.js';
import type { Identity } from './api.js';
import { concat, u8, utf8, wipe } from './bytes.js';
import { DeviceIdentity, asDeviceIdentity, exportPkcs8 } from './identity.js';

const MAGIC = utf8('SHID');
const VERSION = 2;
/** OWASP's minimum for scrypt: N = 2^17, r = 8, p = 1 (128 MiB; about half a second in Node). */
export const DEFAULT_LOG_N = 17;
const MIN_LOG_N = 14;
const MAX_LOG_N = 20;
const R = 8;
const P = 1;
const MAX_R = 16;
const MAX_P = 4;
/** 128·r·N bytes: refuse a file that asks for more than 1 GiB. */
const MAX_MEMORY = 2 ** 30;
const HEADER_LENGTH = 4 + 1 + 3 + 16 + 12;

type Cost = { logN: number; r: number; p: number };

function costAcceptable({ logN, r, p }: Cost): boolean {
  return (
    logN >= MIN_LOG_N &&
    logN <= MAX_LOG_N &&
    r >= 1 &&
    r <= MAX_R &&
    p >= 1 &&
    p <= MAX_P &&
    128 * r * 2 ** logN <= MAX_MEMORY
  );
}

async function passphraseKey(
  passphrase: string,
  salt: Uint8Array,
  cost: Cost,
  usage: 'encrypt' | 'decrypt',
): Promise<CryptoKey> {
  const pw = utf8(passphrase);
  try {
    // noble's maxmem guard: our own bound is lower, plus its small slack.
    const bits = await scryptAsync(pw, salt, {
      N: 2 ** cost.logN,
      r: cost.r,
      p: cost.p,
      dkLen: 32,
      maxmem: MAX_MEMORY + 1024,
    });
    try {
      return await crypto.subtle.importKey('raw', bits, { name: 'AES-GCM' }, false, [usage]);
    } finally {
      wipe(bits);
    }
  } finally {
    wipe(pw);
  }
}

/** Encrypts an identity created with `{ exportable: true }` under a passphrase. */
export async function exportIdentity(
  identity: Identity,
  passphrase: string,
  options: { logN?: number } = {},
): Promise<Uint8Array> {
  const id = asDeviceIdentity(identity);
  if (typeof passphrase !== 'string' || passphrase.length === 0)
    throw new UsageError('E_USAGE', '"passphrase" expected a non-empty string');
  const logN = options.logN ?? DEFAULT_LOG_N;
  if (!Number.isSafeInteger(logN) || !costAcceptable({ logN, r: R, p: P })) {
    throw new UsageError('E_USAGE', `"logN" expected an integer in [${MIN_LOG_N}, ${MAX_LOG_N}], got ${String(logN)}`);
  }
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const header = concat(MAGIC, u8(VERSION), u8(logN), u8(R), u8(P), salt, nonce);
  const key = await passphraseKey(passphrase, salt, { logN, r: R, p: P }, 'encrypt');
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
  const message = 'the identity could not be opened (wrong passphrase or damaged file)';
  const locked = (cause?: unknown) =>
    new CryptoError('E_IDENTITY_LOCKED', message, cause === undefined ? undefined : { cause });
  if (!(bytes instanceof Uint8Array) || typeof passphrase !== 'string') throw locked();
  if (bytes.length < HEADER_LENGTH + 32 + 16) throw locked();
  if (MAGIC.some((b, i) => bytes[i] !== b) || bytes[4] !== VERSION) throw locked();
  const cost: Cost = { logN: bytes[5] ?? 0, r: bytes[6] ?? 0, p: bytes[7] ?? 0 };
  if (!costAcceptable(cost)) throw locked();
  const salt = bytes.slice(8, 24);
  const nonce = bytes.slice(24, HEADER_LENGTH);
  const header = bytes.slice(0, HEADER_LENGTH);
  let plaintext: Uint8Array;
  try {
    const key = await passphraseKey(passphrase, salt, cost, 'decrypt');
    plaintext = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: nonce, additionalData: header },
        key,
        bytes.subarray(HEADER_LENGTH),
      ),
    );
  } catch (cause) {
    throw locked(cause);
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

/**
 * The sealed join request: the body of a `join` frame as the relay sees it. The join request
 * (joinRequest.ts: display name, KeyPackage with the identity key and a lifetime that tells the
 * device's clock, proof) is encrypted to the room under a key only link holders can derive, and
 * padded, so the relay and every other subscriber see only random-looking bytes of one size.
 *
 *   u8 version (= 2; the inner request is version 1, so a sealed body is never mistaken for one)
 *   nonce                12 random bytes (96 bits, NIST SP 800-38D §8.2.2)
 *   ciphertext ‖ tag     AES-256-GCM of the padded request, 16-byte tag
 *
 * - Key: K_seal = HKDF-SHA-256(secret, salt = "", info = "safehouse join request seal v1"),
 *   distinct from the proof labels in proof.ts (RFC 5869 §3.2: one IKM, independent keys per info).
 * - AAD: u8 version ‖ lp(room id): a body moved to another room, or relabelled with another
 *   version, does not open.
 * - Padded plaintext: u32 BE length of the request ‖ request ‖ zeros, to a multiple of
 *   `JOIN_SEAL_BUCKET` (1,024) bytes. Every request an honest client makes (a 1-character name
 *   or 32 four-byte characters: 399 to 648 bytes) fills one bucket, so the body is always
 *   1,053 bytes and its size says nothing about the name.
 *
 * A random 96-bit nonce per request: the invite secret seals few requests (a handful per
 * member per day), far below the 2^32 messages per key SP 800-38D §8.3 allows with random nonces.
 *
 * `openJoinRequest` returns one opaque undefined for every failure (wrong secret, wrong room,
 * tampered, truncated, bad padding): it never says which check failed, and never throws.
 */
import { ByteReader, concat, lengthPrefixed, utf8 } from './bytes.js';
import { INVITE_SECRET_BYTES } from './proof.js';

export const JOIN_SEAL_VERSION = 2;
/** Padded plaintext is a multiple of this many bytes (one bucket for every honest request). */
export const JOIN_SEAL_BUCKET = 1024;
/** The most a sealed body may carry once padded (a request is at most ~4.3 KiB: keyPackage.ts). */
export const JOIN_SEAL_MAX_PADDED = 8 * JOIN_SEAL_BUCKET;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const LENGTH_BYTES = 4;
/** The size of a sealed body whose request fits one bucket: every honest client's. */
export const JOIN_SEALED_BYTES = 1 + NONCE_BYTES + JOIN_SEAL_BUCKET + TAG_BYTES;

const SEAL_INFO = 'safehouse join request seal v1';

async function sealKey(secret: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits']);
  const bits = new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8(SEAL_INFO) }, ikm, 256),
  );
  try {
    return await crypto.subtle.importKey('raw', bits, { name: 'AES-GCM' }, false, [usage]);
  } finally {
    bits.fill(0); // ours: the key lives on only inside the non-extractable CryptoKey
  }
}

function aad(room: string): Uint8Array {
  return concat(Uint8Array.of(JOIN_SEAL_VERSION), lengthPrefixed(utf8(room)));
}

function pad(request: Uint8Array): Uint8Array {
  const size = Math.ceil((LENGTH_BYTES + request.length) / JOIN_SEAL_BUCKET) * JOIN_SEAL_BUCKET;
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, request.length, false);
  out.set(request, LENGTH_BYTES);
  return out;
}

/** The request inside padded plaintext; undefined unless the length fits and every pad byte is 0. */
function unpad(padded: Uint8Array): Uint8Array | undefined {
  const r = new ByteReader(padded);
  const n = r.u32();
  if (n === undefined || n > padded.length - LENGTH_BYTES) return undefined;
  let rest = 0;
  for (let i = LENGTH_BYTES + n; i < padded.length; i++) rest |= padded[i] ?? 0;
  return rest === 0 ? padded.slice(LENGTH_BYTES, LENGTH_BYTES + n) : undefined;
}

/** Seals an encoded join request (joinRequest.ts) for `room` under its invite secret. */
export async function sealJoinRequest(request: Uint8Array, room: string, secret: Uint8Array): Promise<Uint8Array> {
  if (!(request instanceof Uint8Array)) throw new TypeError(`"request" expected Uint8Array, got ${typeof request}`);
  if (typeof room !== 'string') throw new TypeError(`"room" expected string, got ${typeof room}`);
  if (!(secret instanceof Uint8Array) || secret.length !== INVITE_SECRET_BYTES) {
    const got = secret instanceof Uint8Array ? `length=${secret.length}` : typeof secret;
    throw new TypeError(`"secret" expected Uint8Array of length ${INVITE_SECRET_BYTES}, got ${got}`);
  }
  const padded = pad(request);
  if (padded.length > JOIN_SEAL_MAX_PADDED)
    throw new RangeError(`"request" expected at most ${JOIN_SEAL_MAX_PADDED - LENGTH_BYTES} bytes, got length=${request.length}`);
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const key = await sealKey(secret, 'encrypt');
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad(room), tagLength: 128 }, key, padded),
  );
  padded.fill(0); // ours: it held the request in the clear
  return concat(Uint8Array.of(JOIN_SEAL_VERSION), nonce, sealed);
}

/**
 * Opens a `join` frame body for `room` under one invite secret: the encoded join request, or
 * undefined (one opaque result for every failure). Never throws.
 */
export async function openJoinRequest(body: Uint8Array, room: string, secret: Uint8Array): Promise<Uint8Array | undefined> {
  try {
    if (!(body instanceof Uint8Array) || typeof room !== 'string') return undefined;
    if (!(secret instanceof Uint8Array) || secret.length !== INVITE_SECRET_BYTES) return undefined;
    const padded = body.length - 1 - NONCE_BYTES - TAG_BYTES;
    if (body[0] !== JOIN_SEAL_VERSION || padded <= 0 || padded % JOIN_SEAL_BUCKET !== 0 || padded > JOIN_SEAL_MAX_PADDED) return undefined;
    const nonce = body.subarray(1, 1 + NONCE_BYTES);
    const key = await sealKey(secret, 'decrypt');
    const plain = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: nonce, additionalData: aad(room), tagLength: 128 },
        key,
        body.subarray(1 + NONCE_BYTES),
      ),
    );
    const request = unpad(plain);
    plain.fill(0);
    return request;
  } catch {
    return undefined;
  }
}

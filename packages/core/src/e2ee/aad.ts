/**
 * `AppAad` as MLS `authenticated_data` (RFC 9420 §6.3.1: covered by the AEAD of every
 * PrivateMessage and by the sender's signature). Encoding:
 *
 *   u8 version (= 1) || lp(room, UTF-8) || lp(id, UTF-8) || u8 hasExpiry || [u64 expiresAt ms]
 *
 * Canonical: one byte string per value and nothing after the last field, so a relay cannot
 * relabel a message without breaking its AEAD tag.
 */
import { isId } from '../protocol/ids.js';
import type { AppAad } from './api.js';
import { ByteReader, concat, fromUtf8, lengthPrefixed, u64, u8, utf8 } from './bytes.js';

const AAD_VERSION = 1;

function isExpiry(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** Throws TypeError for an aad a well-behaved caller would never build. */
export function encodeAad(aad: AppAad): Uint8Array {
  if (!isId(aad.room)) throw new TypeError('"aad.room" expected a 22-character id');
  if (!isId(aad.id)) throw new TypeError('"aad.id" expected a 22-character id');
  if (aad.expiresAt !== undefined && !isExpiry(aad.expiresAt))
    throw new TypeError(`"aad.expiresAt" expected a non-negative safe integer, got ${String(aad.expiresAt)}`);
  const expiry = aad.expiresAt === undefined ? u8(0) : concat(u8(1), u64(aad.expiresAt));
  return concat(u8(AAD_VERSION), lengthPrefixed(utf8(aad.room)), lengthPrefixed(utf8(aad.id)), expiry);
}

export function decodeAad(bytes: Uint8Array): AppAad | undefined {
  const r = new ByteReader(bytes);
  if (r.u8() !== AAD_VERSION) return undefined;
  const roomBytes = r.field(64);
  const idBytes = r.field(64);
  const has = r.u8();
  if (!roomBytes || !idBytes || (has !== 0 && has !== 1)) return undefined;
  const room = fromUtf8(roomBytes);
  const id = fromUtf8(idBytes);
  if (!isId(room) || !isId(id)) return undefined;
  if (has === 0) return r.done ? { room, id } : undefined;
  const expiresAt = r.u64();
  if (expiresAt === undefined || !r.done) return undefined;
  return { room, id, expiresAt };
}

/**
 * A fast path for the relay's most frequent frame: a `pub` header exactly as our clients write it
 * (`encodeFrame(pubHeader({ room, id, kind, epoch, exp }))`, core's protocol/frames.ts: no
 * spaces, that key order):
 *
 *   {"v":1,"t":"pub","room":"<22 base64url>","id":"<22 base64url>","kind":"<any kind but commit>","epoch":<digits>}
 *   ... the same with ,"exp":<digits> before the closing brace
 *
 * It matches those bytes in place, without UTF-8 decoding, JSON.parse or the schema, and
 * returns null for anything else — any other spacing, order, escape, number form or frame — so
 * the caller falls back to `decodeClientFrame`, which alone ever refuses a frame. The path
 * never accepts more than the schema: whatever it returns, `decodeClientFrame` returns too, for
 * the same bytes (fastPub.test.ts checks it on generated and mutated frames).
 */
import { LIMITS, PUB_KINDS, type PubKind } from '@safehouse/core/protocol';

export type FastPub = {
  room: string;
  id: string;
  kind: PubKind;
  epoch: number;
  exp: number | undefined;
  bodyStart: number;
};

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const PREFIX = ascii('{"v":1,"t":"pub","room":"');
const AFTER_ROOM = ascii('","id":"');
const AFTER_ID = ascii('","kind":"');
const AFTER_KIND = ascii('","epoch":');
const EXP = ascii(',"exp":');
// Every kind but `commit` (a commit carries its proof of membership, `next` and `sig`, and takes
// the full decoder): the relay handles them all alike (relay.ts `handle`, case 'pub'). `app`,
// the most frequent, is tried first.
const KINDS: readonly (readonly [PubKind, Uint8Array])[] = PUB_KINDS.filter((k) => k !== 'commit').map(
  (k) => [k, ascii(k)] as const,
);
const ID = LIMITS.idChars;
/** Digits of Number.MAX_SAFE_INTEGER (9007199254740991): more can never be a safe integer. */
const MAX_DIGITS = 16;

function literalAt(bytes: Uint8Array, at: number, lit: Uint8Array): boolean {
  if (at + lit.length > bytes.length) return false;
  for (let i = 0; i < lit.length; i++) if (bytes[at + i] !== lit[i]) return false;
  return true;
}

/** True for A–Z, a–z, 0–9, `-` and `_` (the id alphabet of the schema's regex). */
function isIdByte(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
}

function idAt(bytes: Uint8Array, at: number, end: number): boolean {
  if (at + ID > end) return false;
  for (let i = at; i < at + ID; i++) if (!isIdByte(bytes[i] as number)) return false;
  return true;
}

/** Where the run of ASCII digits starting at `at` ends (at most `end`). */
function digitsEnd(bytes: Uint8Array, at: number, end: number): number {
  let i = at;
  while (i < end && (bytes[i] as number) >= 0x30 && (bytes[i] as number) <= 0x39) i++;
  return i;
}

/** The JSON integer in bytes [at, end): 1–16 digits, no leading zero, ≤ MAX_SAFE_INTEGER; else -1. */
function uintAt(bytes: Uint8Array, at: number, end: number): number {
  const digits = end - at;
  if (digits < 1 || digits > MAX_DIGITS) return -1;
  if (digits > 1 && bytes[at] === 0x30) return -1; // a leading zero is not JSON
  let n = 0;
  for (let i = at; i < end; i++) n = n * 10 + ((bytes[i] as number) - 0x30);
  return n > Number.MAX_SAFE_INTEGER ? -1 : n;
}

/** The canonical `pub` frame in `bytes`, or null (then use the full decoder). */
export function fastPub(bytes: Buffer, maxFrameBytes: number): FastPub | null {
  const n = bytes.length;
  if (n < 2 || n > maxFrameBytes) return null;
  const hLen = ((bytes[0] as number) << 8) | (bytes[1] as number);
  if (hLen === 0 || hLen > LIMITS.maxHeaderBytes || 2 + hLen > n) return null;
  const end = 2 + hLen;
  let at = 2;
  if (!literalAt(bytes, at, PREFIX)) return null;
  at += PREFIX.length;
  const roomAt = at;
  if (!idAt(bytes, at, end)) return null;
  at += ID;
  if (!literalAt(bytes, at, AFTER_ROOM)) return null;
  at += AFTER_ROOM.length;
  const idStart = at;
  if (!idAt(bytes, at, end)) return null;
  at += ID;
  if (!literalAt(bytes, at, AFTER_ID)) return null;
  at += AFTER_ID.length;
  let kind: PubKind | undefined;
  // The closing quote is part of the match, so no kind can be taken for a longer one it begins.
  for (const [k, lit] of KINDS)
    if (literalAt(bytes, at, lit) && literalAt(bytes, at + lit.length, AFTER_KIND)) {
      kind = k;
      at += lit.length + AFTER_KIND.length;
      break;
    }
  if (kind === undefined) return null;
  // The header ends in `}` as its last byte; `epoch` (then perhaps `exp`) runs up to it.
  if (bytes[end - 1] !== 0x7d) return null;
  const epochEnd = digitsEnd(bytes, at, end - 1);
  const epoch = uintAt(bytes, at, epochEnd);
  if (epoch < 0) return null;
  let exp: number | undefined;
  if (epochEnd !== end - 1) {
    if (!literalAt(bytes, epochEnd, EXP)) return null;
    const expAt = epochEnd + EXP.length;
    if (digitsEnd(bytes, expAt, end - 1) !== end - 1) return null;
    exp = uintAt(bytes, expAt, end - 1);
    if (exp < 0) return null;
  }
  return {
    room: bytes.toString('latin1', roomAt, roomAt + ID),
    id: bytes.toString('latin1', idStart, idStart + ID),
    kind,
    epoch,
    exp,
    bodyStart: end,
  };
}

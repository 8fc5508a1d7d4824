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
  /** The frame matched (`u16 | header | body`): a reference to the caller's buffer, never written. */
  frame: Buffer;
  /** Where the epoch's digits end in `frame`: `}` or `,"exp":<digits>}` follows. */
  epochEnd: number;
  bodyStart: number;
};

/**
 * The pub matched last, kept so that the relay's `msg` for it can be made by copying its header
 * bytes (wireFrame.ts `msgFrame`) instead of encoding the same text again. Set by each call that
 * matches, cleared by each call that does not and when taken: it only ever names the frame the
 * relay is handling in this turn's current message. It holds a reference, no copy.
 */
let last: FastPub | null = null;

/**
 * The pub fastPub matched last, if `body` is that pub's body (the very same bytes in memory, not
 * equal ones) and the fields are exactly its own; then it is forgotten (taken once). Otherwise
 * null. A header fastPub matched is the canonical encoding of its fields (see above), so its bytes
 * are what encoding the same fields would give.
 */
export function takeMatchedPub(
  body: Uint8Array,
  room: string,
  id: string,
  kind: PubKind,
  epoch: number,
  exp: number | undefined,
): FastPub | null {
  const pub = last;
  if (
    pub === null ||
    body.buffer !== pub.frame.buffer ||
    body.byteOffset !== pub.frame.byteOffset + pub.bodyStart ||
    body.length !== pub.frame.length - pub.bodyStart ||
    room !== pub.room ||
    id !== pub.id ||
    kind !== pub.kind ||
    epoch !== pub.epoch ||
    exp !== pub.exp
  )
    return null;
  last = null;
  return pub;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const PREFIX = ascii('{"v":1,"t":"pub","room":"');
const AFTER_ROOM = ascii('","id":"');
const AFTER_ID = ascii('","kind":"');
const EXP = ascii(',"exp":');
// Every kind but `commit` (a commit carries its proof of membership, `next` and `sig`, and takes
// the full decoder): the relay handles them all alike (relay.ts `handle`, case 'pub'). `app`,
// the most frequent, is tried first. Each is matched with the text that follows it.
const KIND_NAMES: readonly PubKind[] = PUB_KINDS.filter((k) => k !== 'commit');
const KIND_TAILS: readonly Uint8Array[] = KIND_NAMES.map((k) => ascii(`${k}","epoch":`));
const ID: number = LIMITS.idChars;
if (ID !== 22) throw new Error(`fastPub reads ids of 22 bytes (idString), but LIMITS.idChars is ${ID}`);
/** Digits of Number.MAX_SAFE_INTEGER (9007199254740991): more can never be a safe integer. */
const MAX_DIGITS = 16;

function literalAt(bytes: Uint8Array, at: number, lit: Uint8Array): boolean {
  if (at + lit.length > bytes.length) return false;
  for (let i = 0; i < lit.length; i++) if (bytes[at + i] !== lit[i]) return false;
  return true;
}

/** 1 for A–Z, a–z, 0–9, `-` and `_` (the id alphabet of the schema's regex), 0 for any other byte. */
const ID_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') ID_BYTE[c.charCodeAt(0)] = 1;

function isIdByte(c: number): boolean {
  return ID_BYTE[c] === 1;
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

/**
 * 22 id bytes (checked: A–Z, a–z, 0–9, `-`, `_`) as a string. One byte is one UTF-16 unit here,
 * and String.fromCharCode on them makes the string in place (Buffer#toString crosses into C++:
 * about twice the time for 22 bytes).
 */
function idString(b: Uint8Array, a: number): string {
  // prettier-ignore
  return String.fromCharCode(
    b[a] as number, b[a + 1] as number, b[a + 2] as number, b[a + 3] as number, b[a + 4] as number,
    b[a + 5] as number, b[a + 6] as number, b[a + 7] as number, b[a + 8] as number, b[a + 9] as number,
    b[a + 10] as number, b[a + 11] as number, b[a + 12] as number, b[a + 13] as number, b[a + 14] as number,
    b[a + 15] as number, b[a + 16] as number, b[a + 17] as number, b[a + 18] as number, b[a + 19] as number,
    b[a + 20] as number, b[a + 21] as number,
  );
}

/** The canonical `pub` frame in `bytes`, or null (then use the full decoder). */
export function fastPub(bytes: Buffer, maxFrameBytes: number): FastPub | null {
  const pub = match(bytes, maxFrameBytes);
  last = pub;
  return pub;
}

/** fastPub's matcher; fastPub remembers what it returns. */
function match(bytes: Buffer, maxFrameBytes: number): FastPub | null {
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
  for (let i = 0; i < KIND_TAILS.length; i++) {
    const lit = KIND_TAILS[i] as Uint8Array;
    if (literalAt(bytes, at, lit)) {
      kind = KIND_NAMES[i];
      at += lit.length;
      break;
    }
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
    room: idString(bytes, roomAt),
    id: idString(bytes, idStart),
    kind,
    epoch,
    exp,
    frame: bytes,
    epochEnd,
    bodyStart: end,
  };
}

/**
 * Wire frames. Every WebSocket message is binary:
 *
 *   u16 big-endian H | H bytes of UTF-8 JSON header | opaque body (MLS bytes or empty)
 *
 * The header is small (ids and numbers), validated once here; the body is never parsed by the
 * relay. Sizes are checked before anything is decoded, and nesting depth before JSON.parse
 * (THREATS A.4). Decoding returns a tagged result: bad input is an expected outcome.
 */
import * as v from 'valibot';
import { isErrorCode, type ErrorCode } from './errors.js';
import { LIMITS, PROTOCOL_VERSION } from './limits.js';

const Id = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{22}$/, 'expected a 22-character base64url id'));
const Uint = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
const Code = v.custom<ErrorCode>(isErrorCode, 'expected a known error code');
const V = v.literal(PROTOCOL_VERSION);
/** A relay key (Ed25519 public key) and a signature by one, base64url (relayAuth.ts). */
const RelayKey = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, 'expected a 43-character base64url key'));
const RelaySig = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{86}$/, 'expected an 86-character base64url signature'));

/** What a published frame carries: an MLS application message, a commit, or a proposal. */
/** `dm`: an application message that carries a direct-message invitation (docs/protocol.md): a
 *  server's room policy may refuse `app` in a room and still let members start direct messages.
 *  `alive`: a member's sign of life (an application message too), which such a policy lets through. */
export const PUB_KINDS = ['app', 'commit', 'proposal', 'dm', 'alive'] as const;
export type PubKind = (typeof PUB_KINDS)[number];
const Kind = v.picklist(PUB_KINDS);

// ---- client → relay -------------------------------------------------------------------------
export const ClientHeader = v.variant('t', [
  /** First frame of a connection. `session` is random per client process (not an identity). */
  v.strictObject({ v: V, t: v.literal('hello'), session: Id }),
  /** Subscribe to a room's fan-out as a member of MLS `epoch`: `sig` by the epoch's relay key
   *  `key` over `subStatement(nonce, room, epoch)` (relayAuth.ts). */
  /*  `fork`: the id of the commit that followed `epoch`, which the sender refused (it broke the
   *  room's policy, or cannot be processed): the relay puts it with those who refused the same
   *  commit, in a fork of the room at this epoch, for its members only. */
  /** `first`: this device's first `sub` after a Welcome: only a cohort on the room's line may take it (docs/protocol.md "Membership authority"). */
  v.strictObject({ v: V, t: v.literal('sub'), room: Id, epoch: Uint, key: RelayKey, sig: RelaySig, fork: v.optional(Id), first: v.optional(v.literal(true)) }),
  v.strictObject({ v: V, t: v.literal('unsub'), room: Id }),
  /** Publish to a room; body is an MLS message. Commits are ordered per room by `epoch`. `exp`:
   *  an unauthenticated expiry hint (Unix ms) so the relay drops expired ciphertext (nack
   *  E_EXPIRED); the expiry that counts is inside MLS (AppAad.expiresAt). */
  /** A commit (`kind: 'commit'`) must carry `next`, the relay key of the epoch it opens, and `sig`
   *  by the current epoch's relay key over `commitStatement` (relayAuth.ts). */
  v.strictObject({
    v: V,
    t: v.literal('pub'),
    room: Id,
    id: Id,
    kind: Kind,
    epoch: Uint,
    exp: v.optional(Uint),
    next: v.optional(RelayKey),
    sig: v.optional(RelaySig),
  }),
  /** Ask to join a room; body is a join request sealed to the room (e2ee/joinSeal.ts): opaque here. */
  v.strictObject({ v: V, t: v.literal('join'), room: Id, id: Id }),
  /** Deliver a Welcome to the connection that sent join request `to`. */
  v.strictObject({ v: V, t: v.literal('welcome'), room: Id, id: Id, to: Id }),
  v.strictObject({ v: V, t: v.literal('ping') }),
  /** A Roughtime request (body, opaque) for the relay's configured server number `server`. */
  v.strictObject({ v: V, t: v.literal('rt'), id: Id, server: Uint }),
]);
export type ClientHeader = v.InferOutput<typeof ClientHeader>;
export type PubHeader = Extract<ClientHeader, { t: 'pub' }>;

/**
 * Every `pub` header a client sends is built here, so its keys are always in this one order:
 * v, t, room, id, kind, epoch, then exp, next and sig where given. `encodeFrame` keeps the order
 * (JSON.stringify), and the relay reads exactly those bytes in place, without decoding, for
 * every kind but `commit` (packages/server/src/fastPub.ts; its test builds its frames here too,
 * so a change to this order or to the kinds shows there, not as a silently slower relay).
 */
export function pubHeader(fields: Omit<PubHeader, 'v' | 't'>): PubHeader {
  const { room, id, kind, epoch, exp, next, sig } = fields;
  const h: PubHeader = { v: PROTOCOL_VERSION, t: 'pub', room, id, kind, epoch };
  if (exp !== undefined) h.exp = exp;
  if (next !== undefined) h.next = next;
  if (sig !== undefined) h.sig = sig;
  return h;
}

// ---- relay → client -------------------------------------------------------------------------
export const RelayHeader = v.variant('t', [
  /** `relay` is random per relay process: a new value tells clients the relay restarted. */
  /** `nonce` is random per connection: `sub` signs it, so a proof is good on this connection only. */
  v.strictObject({ v: V, t: v.literal('hello'), relay: Id, maxFrame: Uint, nonce: Id }),
  v.strictObject({ v: V, t: v.literal('ack'), id: Id }),
  v.strictObject({ v: V, t: v.literal('nack'), id: Id, code: Code, epoch: v.optional(Uint) }),
  /** A published frame, fanned out. `seq` is the relay's per-room counter: a hint, not trusted. */
  /** A commit carries `next`, the relay key it announced for the epoch it opens. */
  v.strictObject({
    v: V,
    t: v.literal('msg'),
    room: Id,
    id: Id,
    kind: Kind,
    epoch: Uint,
    seq: Uint,
    exp: v.optional(Uint),
    next: v.optional(RelayKey),
  }),
  v.strictObject({ v: V, t: v.literal('join'), room: Id, id: Id }),
  v.strictObject({ v: V, t: v.literal('welcome'), room: Id, id: Id }),
  /** How many connections are subscribed to a room. */
  /*  `others`: subscribers of the room's other cohorts (docs/protocol.md "Membership authority"),
   *  when there are any: a member alone in its cohort while others exist may have fallen behind. */
  v.strictObject({ v: V, t: v.literal('presence'), room: Id, count: Uint, others: v.optional(Uint) }),
  v.strictObject({ v: V, t: v.literal('pong') }),
  /** Fatal: the relay closes the connection after this frame. */
  v.strictObject({ v: V, t: v.literal('error'), code: Code }),
  /** The server is shutting down cleanly. */
  v.strictObject({ v: V, t: v.literal('closing') }),
  /** The reply (body, opaque) to `rt {id}`; a failure is `nack {id, code}`. */
  v.strictObject({ v: V, t: v.literal('rt'), id: Id }),
]);
export type RelayHeader = v.InferOutput<typeof RelayHeader>;

export type Frame<H> = { header: H; body: Uint8Array };
export type DecodeResult<H> = { ok: true; header: H; body: Uint8Array } | { ok: false; code: ErrorCode; message: string };

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Encodes a frame. The body is copied once into the result; callers keep ownership of theirs. */
export function encodeFrame(header: ClientHeader | RelayHeader, body?: Uint8Array): Uint8Array {
  const h = utf8.encode(JSON.stringify(header));
  if (h.length > LIMITS.maxHeaderBytes) throw new RangeError(`header expected ≤ ${LIMITS.maxHeaderBytes} bytes, got ${h.length}`);
  const bodyLen = body?.length ?? 0;
  const out = new Uint8Array(2 + h.length + bodyLen);
  out[0] = h.length >>> 8;
  out[1] = h.length & 0xff;
  out.set(h, 2);
  if (body) out.set(body, 2 + h.length);
  return out;
}

/** Depth of JSON nesting, counted on the raw text (strings skipped), before any parse. */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

function decodeWith<H>(
  schema: v.GenericSchema<unknown, H>,
  bytes: Uint8Array,
  maxFrameBytes: number,
): DecodeResult<H> {
  if (!(bytes instanceof Uint8Array)) return { ok: false, code: 'E_FRAME_MALFORMED', message: 'expected a binary frame' };
  if (bytes.length > maxFrameBytes)
    return { ok: false, code: 'E_FRAME_TOO_LARGE', message: `frame expected ≤ ${maxFrameBytes} bytes, got ${bytes.length}` };
  if (bytes.length < 2) return { ok: false, code: 'E_FRAME_MALFORMED', message: 'frame shorter than its length prefix' };
  const hLen = ((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0);
  if (hLen === 0 || hLen > LIMITS.maxHeaderBytes || 2 + hLen > bytes.length)
    return { ok: false, code: 'E_FRAME_MALFORMED', message: `header length ${hLen} out of range` };
  let text: string;
  try {
    text = strictUtf8.decode(bytes.subarray(2, 2 + hLen));
  } catch {
    return { ok: false, code: 'E_FRAME_MALFORMED', message: 'header is not valid UTF-8' };
  }
  if (jsonDepth(text) > LIMITS.maxHeaderDepth) return { ok: false, code: 'E_HEADER_INVALID', message: 'header nested too deeply' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, code: 'E_HEADER_INVALID', message: 'header is not JSON' };
  }
  if (typeof json === 'object' && json !== null && 'v' in json && json.v !== PROTOCOL_VERSION)
    return { ok: false, code: 'E_UNSUPPORTED_VERSION', message: `protocol version ${String(json.v)} is not supported` };
  const parsed = v.safeParse(schema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue.path?.map((p) => String(p.key)).join('.') ?? '';
    return { ok: false, code: 'E_HEADER_INVALID', message: `header invalid${where ? ` at ${where}` : ''}: ${issue.message}` };
  }
  return { ok: true, header: parsed.output, body: bytes.subarray(2 + hLen) };
}

/** Decodes a frame a client sent (used by the relay). The body is a view into `bytes`. */
export function decodeClientFrame(bytes: Uint8Array, maxFrameBytes: number = LIMITS.maxFrameBytes): DecodeResult<ClientHeader> {
  return decodeWith(ClientHeader, bytes, maxFrameBytes);
}

/** Decodes a frame the relay sent (used by clients). The body is a view into `bytes`. */
export function decodeRelayFrame(bytes: Uint8Array, maxFrameBytes: number = LIMITS.maxFrameBytes): DecodeResult<RelayHeader> {
  return decodeWith(RelayHeader, bytes, maxFrameBytes);
}

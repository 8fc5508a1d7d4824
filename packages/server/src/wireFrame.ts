/**
 * Relay frames pre-encoded as whole WebSocket frames (RFC 6455 §5.2): header, then our
 * `u16 | JSON header | body` payload, in one buffer. A server's frames are never masked, so the
 * very same bytes go to every recipient of a fan-out: a message is framed once, its body copied
 * once, and each recipient's socket is handed the same buffer (see writer.ts). Nobody modifies a
 * WireFrame once made.
 *
 * `msg` and `ack`, the frames of the hot path, are written straight into the output buffer; their
 * header text is byte for byte what `encodeFrame` makes of the same object (JSON.stringify with
 * the same key order), which wireFrame.test.ts checks. A `msg` for a pub that took the fast path
 * (fastPub.ts) is made from that pub's own bytes: its header already is the canonical text of the
 * same fields but two, so it is copied with `"pub"` made `"msg"` and `,"seq":N` inserted, and the
 * body comes along. Every other frame goes through `encodeFrame` and is copied once behind a
 * WebSocket header (cold path).
 */
import { encodeFrame, LIMITS, type PubKind, type RelayHeader } from '@safehouse/core/protocol';
import { takeMatchedPub, type FastPub } from './fastPub.js';

declare const wireFrame: unique symbol;
/** A complete, unmasked, final binary WebSocket frame carrying one relay frame. */
export type WireFrame = Buffer & { readonly [wireFrame]: true };

const OPCODE_BINARY_FIN = 0x82;

/** Length of the WebSocket header for a payload of `n` bytes. */
export function wsHeaderLength(n: number): number {
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

/** Writes the WebSocket header for a payload of `n` bytes at the start of `out`. */
function writeWsHeader(out: Buffer, n: number): void {
  out[0] = OPCODE_BINARY_FIN;
  if (n < 126) out[1] = n;
  else if (n < 65536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(n, 6);
  }
}

/** The payload (our relay frame) inside a WireFrame: a view, no copy. */
export function payloadOf(frame: WireFrame): Buffer {
  const b1 = (frame[1] as number) & 0x7f;
  return frame.subarray(b1 < 126 ? 2 : b1 === 126 ? 4 : 10);
}

/** Any relay frame, through `encodeFrame` (cold path: one extra copy). */
export function wireFrameOf(header: RelayHeader, body?: Uint8Array): WireFrame {
  const payload = encodeFrame(header, body);
  const h = wsHeaderLength(payload.length);
  const out = Buffer.allocUnsafe(h + payload.length);
  writeWsHeader(out, payload.length);
  out.set(payload, h);
  return out as WireFrame;
}

/**
 * Writes `text` (ASCII only: ids are base64url, kinds and keys are literals, numbers are digits)
 * after a u16 length, then `body`, behind a WebSocket header: one allocation, one body copy.
 */
function build(text: string, body: Uint8Array | undefined): WireFrame {
  const hLen = text.length;
  if (hLen > LIMITS.maxHeaderBytes)
    throw new RangeError(`header expected ≤ ${LIMITS.maxHeaderBytes} bytes, got ${hLen}`);
  const bodyLen = body ? body.length : 0;
  const n = 2 + hLen + bodyLen;
  const h = wsHeaderLength(n);
  const out = Buffer.allocUnsafe(h + n);
  writeWsHeader(out, n);
  out[h] = hLen >>> 8;
  out[h + 1] = hLen & 0xff;
  out.write(text, h + 2, hLen, 'latin1');
  if (body && bodyLen > 0) out.set(body, h + 2 + hLen);
  return out as WireFrame;
}

/**
 * `msg {room, id, kind, epoch, seq, exp?}` + body. `room` and `id` are validated 22-character
 * base64url ids and `epoch`, `seq`, `exp` safe non-negative integers (the caller holds a
 * validated `pub`), so the text needs no escaping and equals JSON.stringify of the same object.
 * Where `body` is the body of the pub fastPub just matched, with these very fields, the frame is
 * copied from that pub (`msgFromPub`); else it is written from the fields. Both give the same bytes.
 */
export function msgFrame(
  room: string,
  id: string,
  kind: PubKind,
  epoch: number,
  seq: number,
  exp: number | undefined,
  body: Uint8Array,
): WireFrame {
  const pub = takeMatchedPub(body, room, id, kind, epoch, exp);
  if (pub !== null) return msgFromPub(pub, seq, body);
  const tail = exp === undefined ? '}' : `,"exp":${exp}}`;
  return build(
    `{"v":1,"t":"msg","room":"${room}","id":"${id}","kind":"${kind}","epoch":${epoch},"seq":${seq}${tail}`,
    body,
  );
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
/** Where `pub` sits in a header fastPub matched: `{"v":1,"t":"` is 12 bytes. */
const KIND_AT = 12;
const MSG = ascii('msg');
const SEQ = ascii(',"seq":');

/** Decimal digits of a non-negative safe integer. */
function digitCount(n: number): number {
  let d = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) d++;
  return d;
}

/**
 * The `msg` for a pub fastPub matched, sequence number `seq` (a safe non-negative integer): the
 * pub's header up to the end of its epoch, `"pub"` made `"msg"`, then `,"seq":<seq>`, then the
 * rest of the pub's header as it is (`}` or `,"exp":<n>}`), then `body`, the pub's body (a view
 * the caller already holds: copied with no new view). The pub's buffer is only read.
 */
export function msgFromPub(pub: FastPub, seq: number, body: Uint8Array): WireFrame {
  const src = pub.frame;
  const { epochEnd, bodyStart } = pub;
  const digits = digitCount(seq);
  const hLen = bodyStart - 2 + SEQ.length + digits;
  if (hLen > LIMITS.maxHeaderBytes)
    throw new RangeError(`header expected ≤ ${LIMITS.maxHeaderBytes} bytes, got ${hLen}`);
  const n = 2 + hLen + (src.length - bodyStart);
  const h = wsHeaderLength(n);
  const out = Buffer.allocUnsafe(h + n);
  writeWsHeader(out, n);
  out[h] = hLen >>> 8;
  out[h + 1] = hLen & 0xff;
  // The header, u16 length excluded, up to the epoch's last digit; then the kind of frame.
  src.copy(out, h + 2, 2, epochEnd);
  for (let i = 0; i < MSG.length; i++) out[h + 2 + KIND_AT + i] = MSG[i] as number;
  let at = h + epochEnd;
  for (let i = 0; i < SEQ.length; i++) out[at + i] = SEQ[i] as number;
  at += SEQ.length;
  for (let i = at + digits - 1, x = seq; i >= at; i--, x = Math.floor(x / 10)) out[i] = 0x30 + (x % 10);
  at += digits;
  // `}` or `,"exp":<n>}`, then the body.
  for (let i = epochEnd; i < bodyStart; i++) out[at++] = src[i] as number;
  out.set(body, at);
  return out as WireFrame;
}

/** `{"v":1,"t":"ack","id":"`, the text before the id in every `ack`. */
const ACK_PREFIX = ascii('{"v":1,"t":"ack","id":"');
/** Header text length of an `ack` for a 22-character id. */
const ACK_TEXT = ACK_PREFIX.length + LIMITS.idChars + 2;
/** All of an `ack` before its id: a 2-byte WebSocket header (payload 49 bytes), the u16 text length, ACK_PREFIX. */
const ACK_HEAD = Uint8Array.of(OPCODE_BINARY_FIN, 2 + ACK_TEXT, ACK_TEXT >>> 8, ACK_TEXT & 0xff, ...ACK_PREFIX);

/** `ack {id}`, `id` a validated id. */
export function ackFrame(id: string): WireFrame {
  if (id.length !== LIMITS.idChars) return build(`{"v":1,"t":"ack","id":"${id}"}`, undefined);
  const out = Buffer.allocUnsafe(ACK_HEAD.length + LIMITS.idChars + 2);
  out.set(ACK_HEAD, 0);
  const at = ACK_HEAD.length;
  for (let i = 0; i < id.length; i++) out[at + i] = id.charCodeAt(i);
  out[at + id.length] = 0x22; // "
  out[at + id.length + 1] = 0x7d; // }
  return out as WireFrame;
}

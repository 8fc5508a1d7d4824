/**
 * Relay frames pre-encoded as whole WebSocket frames (RFC 6455 §5.2): header, then our
 * `u16 | JSON header | body` payload, in one buffer. A server's frames are never masked, so the
 * very same bytes go to every recipient of a fan-out: a message is framed once, its body copied
 * once, and each recipient's socket is handed the same buffer (see writer.ts). Nobody modifies a
 * WireFrame once made.
 *
 * `msg` and `ack`, the frames of the hot path, are written straight into the output buffer; their
 * header text is byte for byte what `encodeFrame` makes of the same object (JSON.stringify with
 * the same key order), which wireFrame.test.ts checks. Every other frame goes through
 * `encodeFrame` and is copied once behind a WebSocket header (cold path).
 */
import { encodeFrame, LIMITS, type PubKind, type RelayHeader } from '@safehouse/core/protocol';

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
  const tail = exp === undefined ? '}' : `,"exp":${exp}}`;
  return build(
    `{"v":1,"t":"msg","room":"${room}","id":"${id}","kind":"${kind}","epoch":${epoch},"seq":${seq}${tail}`,
    body,
  );
}

/** `ack {id}`, `id` a validated id. */
export function ackFrame(id: string): WireFrame {
  return build(`{"v":1,"t":"ack","id":"${id}"}`, undefined);
}

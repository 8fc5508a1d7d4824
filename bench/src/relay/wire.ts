/**
 * The load generator's side of the wire, kept cheap on purpose: client frames are pre-encoded
 * with an all-zero mask (RFC 6455 §5.3 lets a client choose any key; with zero the payload
 * bytes are sent as they are, so a frame is built once and only patched), and server frames
 * are scanned, not parsed: the generator reads the few bytes it needs (opcode, length, the
 * tracking fields in the body) and allocates nothing per received frame.
 *
 * Both relays carry the same payload, Safehouse framing (`u16 header length | JSON header |
 * body`); the baseline forwards it untouched. The body starts with a tracking block:
 *
 *   0 u32 MAGIC | 4 u32 room index | 8 u32 unused | 12 u32 unused | 16 f64 send time (ms)
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { encodeFrame, subStatement, toBase64Url, type ClientHeader } from '@safehouse/core/protocol';

export const MAGIC = 0x53484231; // "SHB1"
export const TRACK_BYTES = 24;

/** A masked (zero key) client WebSocket frame carrying `payload`, FIN set. */
export function clientFrame(opcode: number, payload: Uint8Array): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = Buffer.alloc(2 + ext + 4 + len);
  out[0] = 0x80 | opcode;
  if (ext === 0) out[1] = 0x80 | len;
  else if (ext === 2) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(len, 6);
  }
  // Mask key: four zero bytes (already zero), then the payload unchanged.
  out.set(payload, 2 + ext + 4);
  return out;
}

/** A client frame carrying a Safehouse frame. */
/**
 * A `sub` proving epoch 0 of `room` (docs/protocol.md "Membership authority"): one Ed25519 key
 * per room, as the members of an MLS epoch share one; signed over this connection's nonce.
 */
const roomKeys = new Map<string, { text: string; privateKey: KeyObject }>();
export function signedSub(nonce: string, room: string): Buffer {
  let k = roomKeys.get(room);
  if (!k) {
    const pair = generateKeyPairSync('ed25519');
    k = { text: toBase64Url(pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)), privateKey: pair.privateKey };
    roomKeys.set(room, k);
  }
  const sig = toBase64Url(sign(null, subStatement(nonce, room, 0), k.privateKey));
  return protocolFrame({ v: 1, t: 'sub', room, epoch: 0, key: k.text, sig });
}

export function protocolFrame(header: ClientHeader, body?: Uint8Array): Buffer {
  return clientFrame(0x2, encodeFrame(header, body));
}

/** A pre-encoded publish frame whose tracking block is patched per message. */
export class PubTemplate {
  readonly bytes: Buffer;
  private readonly trackAt: number;

  constructor(header: ClientHeader, bodyBytes: number, roomIndex: number) {
    if (bodyBytes < TRACK_BYTES) throw new RangeError(`body expected ≥ ${TRACK_BYTES} bytes, got ${bodyBytes}`);
    const body = Buffer.alloc(bodyBytes, 0x5a);
    body.writeUInt32BE(MAGIC, 0);
    body.writeUInt32BE(roomIndex, 4);
    this.bytes = protocolFrame(header, body);
    this.trackAt = this.bytes.length - bodyBytes;
  }

  /** A fresh copy stamped with `sentMs` (the socket may still hold the previous one). */
  stamp(sentMs: number): Buffer {
    const out = Buffer.allocUnsafe(this.bytes.length);
    this.bytes.copy(out);
    out.writeDoubleLE(sentMs, this.trackAt + 16);
    return out;
  }
}

/** What a scanned server frame was. */
export type FrameSink = {
  /** A tracked delivery: `room` index and its send time. */
  delivery(room: number, sentMs: number): void;
  /** Any other binary frame (hello, presence, ack...): payload view, valid only during the call. */
  other(payload: Buffer): void;
  /** A ping: answer with a pong carrying `payload`. */
  ping(payload: Buffer): void;
  close(): void;
};

/** Header length of the frame at `off` (2, 4 or 10), or 0 if its header is incomplete. */
function headLength(buf: Buffer, off: number): number {
  const avail = buf.length - off;
  if (avail < 2) return 0;
  const b1 = (buf[off + 1] as number) & 0x7f;
  return b1 < 126 ? 2 : b1 === 126 ? (avail < 4 ? 0 : 4) : avail < 10 ? 0 : 10;
}

/** Total length (header + payload) of the frame at `off`, whose header is `head` bytes. */
function totalLength(buf: Buffer, off: number, head: number): number {
  if (head === 2) return 2 + ((buf[off + 1] as number) & 0x7f);
  if (head === 4) return 4 + buf.readUInt16BE(off + 2);
  return 10 + buf.readUInt32BE(off + 6);
}

/** Scans a stream of unmasked server frames, carrying at most one partial frame between chunks. */
export class FrameScanner {
  private carry: Buffer | null = null;

  constructor(private readonly sink: FrameSink) {}

  push(chunk: Buffer): void {
    // A partial frame left from the last chunk is joined to this one (one copy per chunk, not per frame).
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    let off = 0;
    for (;;) {
      const head = headLength(buf, off);
      if (head === 0) break;
      const total = totalLength(buf, off, head);
      if (off + total > buf.length) break;
      this.frame(buf, off, head, total);
      off += total;
    }
    if (off < buf.length) this.carry = Buffer.from(buf.subarray(off));
  }

  private frame(buf: Buffer, off: number, head: number, total: number): void {
    const opcode = (buf[off] as number) & 0x0f;
    const p = off + head;
    const end = off + total;
    if (opcode === 0x2) {
      if (end - p >= 2) {
        const body = p + 2 + buf.readUInt16BE(p);
        if (end - body >= TRACK_BYTES && buf.readUInt32BE(body) === MAGIC) {
          this.sink.delivery(buf.readUInt32BE(body + 4), buf.readDoubleLE(body + 16));
          return;
        }
      }
      this.sink.other(buf.subarray(p, end));
    } else if (opcode === 0x9) this.sink.ping(Buffer.from(buf.subarray(p, end)));
    else if (opcode === 0x8) this.sink.close();
  }
}

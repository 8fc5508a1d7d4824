/**
 * Small byte helpers for our own e2ee encodings (join requests, authenticated data, proofs).
 * Every length prefix is a big-endian uint32: simple to read, no varint edge cases.
 */
import { bytesEqual, concat } from '../protocol/bytes.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** Strict UTF-8 decoding: undefined for invalid sequences (never U+FFFD substitutions). */
export function fromUtf8(b: Uint8Array): string | undefined {
  try {
    return utf8Decoder.decode(b);
  } catch {
    return undefined;
  }
}

export { bytesEqual, concat };

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
}

/** `len(x) as uint32 BE || x`: the unambiguous framing used for every MAC input and field. */
export function lengthPrefixed(x: Uint8Array): Uint8Array {
  return concat(u32(x.length), x);
}

/** Overwrites a buffer with zeros; used on every private key and secret we own when dropped. */
export function wipe(b: Uint8Array | undefined): void {
  if (b) b.fill(0);
}

/**
 * A reader over a byte array: each method returns undefined when the input is too short, so a
 * decoder is a chain of checks and never indexes out of bounds.
 */
export class ByteReader {
  #b: Uint8Array;
  #o = 0;
  constructor(b: Uint8Array) {
    this.#b = b;
  }
  get done(): boolean {
    return this.#o === this.#b.length;
  }
  u8(): number | undefined {
    if (this.#o + 1 > this.#b.length) return undefined;
    return this.#b[this.#o++];
  }
  u32(): number | undefined {
    if (this.#o + 4 > this.#b.length) return undefined;
    const v = new DataView(this.#b.buffer, this.#b.byteOffset + this.#o, 4).getUint32(0, false);
    this.#o += 4;
    return v;
  }
  /** A uint64 that must fit a JS safe integer (e.g. a time in ms). */
  u64(): number | undefined {
    const hi = this.u32();
    const lo = this.u32();
    if (hi === undefined || lo === undefined || hi > 0x1fffff) return undefined;
    return hi * 0x1_0000_0000 + lo;
  }
  /** A length-prefixed field of at most `max` bytes; returns a copy (the caller owns it). */
  field(max: number): Uint8Array | undefined {
    const n = this.u32();
    if (n === undefined || n > max || this.#o + n > this.#b.length) return undefined;
    const out = this.#b.slice(this.#o, this.#o + n);
    this.#o += n;
    return out;
  }
}

export function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, Math.floor(n / 0x1_0000_0000), false);
  dv.setUint32(4, n >>> 0, false);
  return b;
}

export function u8(n: number): Uint8Array {
  return Uint8Array.of(n);
}

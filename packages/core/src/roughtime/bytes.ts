/**
 * Byte helpers shared by the Roughtime files: labelled argument checks, little-endian integers
 * (RFC 10049 §4.1.1-4.1.2: uint32 and uint64 are serialised least significant byte first),
 * concatenation, hex and base64. Nothing here keeps a reference to a buffer it was given.
 */
import { UsageError } from '../protocol/errors.js';
import { bytesEqual, concat } from '../protocol/bytes.js';

/** Throws a labelled usage error unless `x` is a Uint8Array (of `length`, when given). */
export function abytes(name: string, x: unknown, length?: number): Uint8Array {
  if (!(x instanceof Uint8Array)) {
    throw new UsageError('E_USAGE', `"${name}" expected Uint8Array, got ${describe(x)}`);
  }
  if (length !== undefined && x.length !== length) {
    throw new UsageError('E_USAGE', `"${name}" expected Uint8Array of length ${length}, got length=${x.length}`);
  }
  return x;
}

/** True when `x` is a Uint8Array (of `length`, when given): the non-throwing form for verifiers. */
export function isBytes(x: unknown, length?: number): x is Uint8Array {
  return x instanceof Uint8Array && (length === undefined || x.length === length);
}

/** Throws unless `x` is an integer in [min, max]. */
export function aint(name: string, x: unknown, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
    throw new UsageError('E_USAGE', `"${name}" expected an integer in [${min}, ${max}], got ${describe(x)}`);
  }
  return x;
}

/** Throws unless `x` is a finite number ≥ 0. */
export function anonneg(name: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
    throw new UsageError('E_USAGE', `"${name}" expected a finite number ≥ 0, got ${describe(x)}`);
  }
  return x;
}

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x instanceof Uint8Array) return `Uint8Array(length=${x.length})`;
  if (Array.isArray(x)) return `array(length=${x.length})`;
  if (typeof x === 'number') return `number ${x}`;
  if (typeof x === 'string') return `string(length=${x.length})`;
  return typeof x;
}

/** `bytesEqual`: the one byte equality (constant-time; here every value compared is public anyway). */
export { bytesEqual, concat };

export function readU32(b: Uint8Array, offset: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(offset, true);
}

export function readU64(b: Uint8Array, offset: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(offset, true);
}

export function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}

export function u64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

export function u32List(values: readonly number[]): Uint8Array {
  return concat(...values.map(u32));
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Parses lower- or upper-case hex; throws a usage error on anything else. */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new UsageError('E_USAGE', `"hex" expected an even-length hex string, got ${describe(hex)}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Standard base64 with padding (RFC 4648 §4), as the malfeasance report uses. */
export function toBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Parses standard base64; returns undefined when the text is not base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  let bin: string;
  try {
    bin = atob(text);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export { randomBytes } from '../protocol/ids.js';

/** Array.isArray without narrowing a typed readonly array to any[] (for argument checks). */
export function isArray(x: unknown): boolean {
  return Array.isArray(x);
}

/**
 * The Roughtime tag-value message (RFC 10049 §4, identical in drafts 08-19 and Google's
 * protocol): a uint32 count N, N-1 uint32 offsets (the zeroth offset, 0, is implicit), N uint32
 * tags in strictly ascending numeric order, then the values. Offsets are multiples of four and
 * ascending; the last value runs to the end of the message (§4.2).
 *
 * `parseMessage` is the only way bytes from the network become a `RtMessage`; it returns a
 * result and never throws. Values are views into the caller's buffer (no copy): the caller owns
 * the buffer and must not mutate it while the message is in use.
 */
import { abytes, concat, isArray, readU32, u32 } from './bytes.js';
import { reject, type Rejected } from './result.js';
import { UsageError } from '../protocol/errors.js';

/**
 * §4.1.3: a tag is up to four ASCII capitals padded with zero bytes, read as a little-endian
 * uint32. `PAD\xff` is Google's padding tag (the only deployed tag outside A-Z).
 */
export function tagValue(name: string): number {
  if (typeof name !== 'string' || name.length < 1 || name.length > 4) {
    throw new UsageError('E_USAGE', `"tag" expected 1-4 characters, got ${JSON.stringify(name)}`);
  }
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const c = i < name.length ? name.charCodeAt(i) : 0;
    if (c > 0xff) throw new UsageError('E_USAGE', `"tag" expected byte characters, got ${JSON.stringify(name)}`);
    v |= c << (8 * i);
  }
  return v >>> 0;
}

/** The printable name of a tag (zero padding dropped, other bytes as \xNN), for details and tests. */
export function tagName(tag: number): string {
  let s = '';
  for (let i = 0; i < 4; i++) {
    const c = (tag >>> (8 * i)) & 0xff;
    if (c === 0) continue;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** Every tag this library reads or writes: the RFC 10049 §12.3 registry, plus Google's PAD\xff. */
export const Tag = {
  SIG: tagValue('SIG'),
  SRV: tagValue('SRV'),
  VER: tagValue('VER'),
  NONC: tagValue('NONC'),
  DELE: tagValue('DELE'),
  TYPE: tagValue('TYPE'),
  PATH: tagValue('PATH'),
  RADI: tagValue('RADI'),
  PUBK: tagValue('PUBK'),
  MIDP: tagValue('MIDP'),
  SREP: tagValue('SREP'),
  VERS: tagValue('VERS'),
  MINT: tagValue('MINT'),
  ROOT: tagValue('ROOT'),
  CERT: tagValue('CERT'),
  MAXT: tagValue('MAXT'),
  INDX: tagValue('INDX'),
  ZZZZ: tagValue('ZZZZ'),
  PAD: tagValue('PAD\xff'),
} as const;

/** A parsed message: tags ascending, each with a view of its value. */
export class RtMessage {
  readonly tags: readonly number[];
  readonly values: readonly Uint8Array[];
  /** The exact bytes parsed (a view): signatures and Merkle leaves cover these, never a re-encoding. */
  readonly bytes: Uint8Array;

  constructor(tags: readonly number[], values: readonly Uint8Array[], bytes: Uint8Array) {
    this.tags = tags;
    this.values = values;
    this.bytes = bytes;
  }

  get(tag: number): Uint8Array | undefined {
    // Tags are sorted: a binary search keeps lookups cheap even for a hostile tag count.
    let lo = 0;
    let hi = this.tags.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const t = this.tags[mid] as number;
      if (t === tag) return this.values[mid];
      if (t < tag) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  has(tag: number): boolean {
    return this.get(tag) !== undefined;
  }
}

export type ParseMessageResult = { readonly ok: true; readonly message: RtMessage } | Rejected;

/**
 * Parses one tag-value message. States, in order: length → count → header → offsets → tags →
 * values. Any violation returns E_ROUGHTIME_MALFORMED with the state that failed.
 */
export function parseMessage(bytes: Uint8Array): ParseMessageResult {
  if (!(bytes instanceof Uint8Array)) return reject('E_USAGE', '"message" expected Uint8Array');
  // length: at least the count; whole uint32 words (§4.2: offsets are multiples of four, and every
  // deployed encoder pads values to four bytes).
  if (bytes.length < 4) return reject('E_ROUGHTIME_MALFORMED', `length: ${bytes.length} bytes, need at least 4`);
  if (bytes.length % 4 !== 0) return reject('E_ROUGHTIME_MALFORMED', `length: ${bytes.length} is not a multiple of 4`);
  // count: §4 "maps consisting of one or more (tag, value) pairs".
  const n = readU32(bytes, 0);
  if (n === 0) return reject('E_ROUGHTIME_MALFORMED', 'count: zero tags');
  // header: 4 (count) + 4(N-1) (offsets) + 4N (tags) = 8N bytes, checked before any loop so a
  // hostile count cannot make us iterate or allocate beyond the input.
  const headerLength = 8 * n;
  if (headerLength > bytes.length) {
    return reject('E_ROUGHTIME_MALFORMED', `header: ${n} tags need ${headerLength} bytes, message has ${bytes.length}`);
  }
  const valuesLength = bytes.length - headerLength;
  // offsets: implicit 0 first; multiples of four; ascending; within the values section.
  const offsets: number[] = [0];
  for (let i = 1; i < n; i++) {
    const off = readU32(bytes, 4 * i);
    if (off % 4 !== 0) return reject('E_ROUGHTIME_MALFORMED', `offsets: offset ${i} (${off}) is not a multiple of 4`);
    if (off < (offsets[i - 1] as number))
      return reject('E_ROUGHTIME_MALFORMED', `offsets: offset ${i} (${off}) decreases`);
    if (off > valuesLength) {
      return reject(
        'E_ROUGHTIME_MALFORMED',
        `offsets: offset ${i} (${off}) beyond the ${valuesLength}-byte values section`,
      );
    }
    offsets.push(off);
  }
  // tags: strictly ascending as uint32 (§4.2: sorted, and no tag twice).
  const tags: number[] = [];
  const tagsStart = 4 * n;
  for (let i = 0; i < n; i++) {
    const tag = readU32(bytes, tagsStart + 4 * i);
    if (i > 0 && tag <= (tags[i - 1] as number)) {
      return reject('E_ROUGHTIME_MALFORMED', `tags: ${tagName(tag)} is not above ${tagName(tags[i - 1] as number)}`);
    }
    tags.push(tag);
  }
  // values: views, the last one running to the end of the message.
  const values: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const start = headerLength + (offsets[i] as number);
    const end = i + 1 < n ? headerLength + (offsets[i + 1] as number) : bytes.length;
    values.push(bytes.subarray(start, end));
  }
  return { ok: true, message: new RtMessage(tags, values, bytes) };
}

/**
 * Encodes a message from (tag, value) pairs in any order: sorted ascending by tag (§4.2), every
 * value a multiple of four bytes. Throws a usage error on duplicates or misaligned values,
 * since those are bugs in our own code, not network input.
 */
export function encodeMessage(entries: ReadonlyArray<readonly [number, Uint8Array]>): Uint8Array {
  if (!isArray(entries) || entries.length === 0) {
    throw new UsageError('E_USAGE', '"entries" expected a non-empty array of [tag, value]');
  }
  const sorted = [...entries].sort((a, b) => a[0] - b[0]);
  const parts: Uint8Array[] = [u32(sorted.length)];
  const tagWords: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; i < sorted.length; i++) {
    const [tag, value] = sorted[i] as readonly [number, Uint8Array];
    abytes(`value of ${tagName(tag)}`, value);
    if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffffff)
      throw new UsageError('E_USAGE', `"tag" expected uint32, got ${tag}`);
    if (i > 0 && tag === (sorted[i - 1] as readonly [number, Uint8Array])[0]) {
      throw new UsageError('E_USAGE', `tag ${tagName(tag)} appears twice`);
    }
    if (value.length % 4 !== 0) {
      throw new UsageError(
        'E_USAGE',
        `value of ${tagName(tag)} expected a multiple of 4 bytes, got length=${value.length}`,
      );
    }
    if (i > 0) parts.push(u32(offset));
    tagWords.push(u32(tag));
    offset += value.length;
  }
  return concat(...parts, ...tagWords, ...sorted.map((e) => e[1]));
}

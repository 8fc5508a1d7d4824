/**
 * The tag-value message (RFC 10049 §4) and the ROUGHTIM frame (§5): hand-written malformed
 * bytes rejected with their code, round trips, and a parser that never throws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat, u32 } from './bytes.js';
import { framePacket, MAX_PACKET_BYTES, parsePacket, unframePacket } from './packet.js';
import { encodeMessage, parseMessage, Tag, tagName, tagValue } from './tags.js';

const words = (...xs: number[]): Uint8Array => concat(...xs.map(u32));
const codeOf = (bytes: Uint8Array): string => {
  const r = parseMessage(bytes);
  return r.ok ? 'ok' : r.code;
};

describe('tags (§4.1.3)', () => {
  it('match the RFC registry values (§12.3)', () => {
    const registry: Record<string, number> = {
      SIG: 0x00474953,
      VER: 0x00524556,
      SRV: 0x00565253,
      NONC: 0x434e4f4e,
      DELE: 0x454c4544,
      TYPE: 0x45505954,
      PATH: 0x48544150,
      RADI: 0x49444152,
      PUBK: 0x4b425550,
      MIDP: 0x5044494d,
      SREP: 0x50455253,
      VERS: 0x53524556,
      MINT: 0x544e494d,
      ROOT: 0x544f4f52,
      CERT: 0x54524543,
      MAXT: 0x5458414d,
      INDX: 0x58444e49,
      ZZZZ: 0x5a5a5a5a,
    };
    for (const [name, value] of Object.entries(registry)) expect(Tag[name as keyof typeof Tag], name).toBe(value);
    expect(Tag.PAD).toBe(0xff444150);
    expect(tagName(Tag.PAD)).toBe('PAD\\xff');
  });

  it('name and value round-trip for 1-4 capitals', () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Z]{1,4}$/), (s) => tagName(tagValue(s)) === s));
  });
});

describe('parseMessage: malformed bytes rejected with E_ROUGHTIME_MALFORMED', () => {
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['3 bytes', new Uint8Array(3)],
    ['6 bytes (not whole words)', new Uint8Array(6)],
    ['zero tags', words(0)],
    ['header larger than the message', words(2, 0, Tag.NONC)],
    ['count near 2^32', words(0xffffffff, 0)],
    ['offset not a multiple of 4', words(2, 2, Tag.NONC, Tag.PATH, 0, 0)],
    ['offsets decreasing', words(3, 8, 4, Tag.SIG, Tag.NONC, Tag.PATH, 0, 0, 0)],
    ['offset beyond the values', words(2, 8, Tag.NONC, Tag.PATH, 0)],
    ['tags not ascending', words(2, 4, Tag.PATH, Tag.NONC, 0, 0)],
    ['tag repeated', words(2, 4, Tag.NONC, Tag.NONC, 0, 0)],
  ];
  it.each(cases)('%s', (_name, bytes) => expect(codeOf(bytes)).toBe('E_ROUGHTIME_MALFORMED'));

  it('accepts the smallest messages, empty values and a last value running to the end', () => {
    expect(codeOf(words(1, Tag.NONC))).toBe('ok');
    const r = parseMessage(words(3, 0, 4, Tag.SIG, Tag.NONC, Tag.PATH, 7, 8, 9));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.message.get(Tag.SIG)!.length).toBe(0);
    expect(r.message.get(Tag.NONC)).toEqual(u32(7));
    expect(r.message.get(Tag.PATH)).toEqual(words(8, 9));
    expect(r.message.get(Tag.ZZZZ)).toBeUndefined();
  });

  it('returns views into the input (no copy)', () => {
    const bytes = words(1, Tag.NONC, 5);
    const r = parseMessage(bytes);
    if (!r.ok) throw new Error();
    bytes[8] = 6;
    expect(r.message.get(Tag.NONC)![0]).toBe(6);
  });

  it('never throws on arbitrary bytes, and whatever parses re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const r = parseMessage(bytes);
        if (r.ok)
          expect(encodeMessage(r.message.tags.map((t, i) => [t, r.message.values[i]!] as const))).toEqual(bytes);
      }),
    );
    // And arbitrary headers with plausible counts.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(fc.nat({ max: 64 }), { maxLength: 12 }), (n, rest) => {
        parseMessage(words(n, ...rest));
      }),
    );
  });
});

describe('encodeMessage', () => {
  const entry = fc.tuple(
    fc.nat({ max: 0xffffffff }),
    fc.uint8Array({ maxLength: 12 }).map((b) => b.subarray(0, b.length - (b.length % 4))),
  );

  it('round-trips any set of distinct tags, sorted ascending', () => {
    fc.assert(
      fc.property(fc.uniqueArray(entry, { minLength: 1, maxLength: 8, selector: (e) => e[0] }), (entries) => {
        const r = parseMessage(encodeMessage(entries));
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const sorted = [...entries].sort((a, b) => a[0] - b[0]);
        expect(r.message.tags).toEqual(sorted.map((e) => e[0]));
        expect(r.message.values.map((v) => Array.from(v))).toEqual(sorted.map((e) => Array.from(e[1])));
      }),
    );
  });

  it('refuses duplicates, misaligned values and an empty message (our bugs, not input)', () => {
    expect(() => encodeMessage([])).toThrow(/non-empty/);
    expect(() => encodeMessage([[Tag.NONC, new Uint8Array(3)]])).toThrow(/multiple of 4/);
    expect(() =>
      encodeMessage([
        [Tag.NONC, new Uint8Array(4)],
        [Tag.NONC, new Uint8Array(4)],
      ]),
    ).toThrow(/twice/);
  });
});

describe('ROUGHTIM frame (§5)', () => {
  const message = words(1, Tag.NONC, 1);
  const framed = framePacket(message);

  it('is "ROUGHTIM", the uint32 length, the message', () => {
    expect(new TextDecoder().decode(framed.subarray(0, 8))).toBe('ROUGHTIM');
    expect(framed.subarray(8, 12)).toEqual(u32(message.length));
    const un = unframePacket(framed);
    expect(un.ok && un.message).toEqual(message);
  });

  const bad: [string, Uint8Array][] = [
    ['shorter than the header', framed.subarray(0, 11)],
    ['wrong magic', concat(new TextEncoder().encode('ROUGHTIN'), framed.subarray(8))],
    ['length says more than sent (truncated)', framed.subarray(0, framed.length - 4)],
    ['length says less than sent (trailing bytes)', concat(framed, new Uint8Array(4))],
    ['larger than a datagram', concat(framePacket(new Uint8Array(MAX_PACKET_BYTES - 8)))],
  ];
  it.each(bad)('rejects a packet %s with E_ROUGHTIME_FRAMING', (_n, packet) => {
    const r = unframePacket(packet);
    expect(r.ok ? 'ok' : r.code).toBe('E_ROUGHTIME_FRAMING');
  });

  it('passes message errors through from parsePacket', () => {
    const r = parsePacket(framePacket(words(0)), true);
    expect(r.ok ? 'ok' : r.code).toBe('E_ROUGHTIME_MALFORMED');
  });
});

/**
 * The Welcome envelope (docs/protocol.md "Joining a room"): 0x01 + Welcome, 0x03 + length +
 * Welcome + the admitter's note, 0x02 + refusal code; anything else, or a 0x03 whose parts do
 * not add up, decodes to nothing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeWelcomeEnvelope, encodeWelcomeEnvelope } from './envelope.js';

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

describe('welcome envelope', () => {
  it('round-trips a Welcome, a Welcome with a note, and a refusal', () => {
    const welcome = bytes(300, 7);
    const note = bytes(90, 9);
    expect(decodeWelcomeEnvelope(encodeWelcomeEnvelope({ kind: 'welcome', welcome }))).toEqual({ kind: 'welcome', welcome });
    const withNote = encodeWelcomeEnvelope({ kind: 'welcome', welcome, note });
    expect(withNote[0]).toBe(0x03);
    expect(decodeWelcomeEnvelope(withNote)).toEqual({ kind: 'welcome', welcome, note });
    expect(decodeWelcomeEnvelope(encodeWelcomeEnvelope({ kind: 'refused', code: 'E_BANNED' }))).toEqual({ kind: 'refused', code: 'E_BANNED' });
  });

  it('refuses a 0x03 envelope whose length does not leave both parts', () => {
    const make = (n: number, rest: number): Uint8Array => {
      const out = new Uint8Array(5 + rest);
      out[0] = 0x03;
      new DataView(out.buffer).setUint32(1, n);
      return out;
    };
    expect(decodeWelcomeEnvelope(make(0, 10))).toBeUndefined(); // no Welcome
    expect(decodeWelcomeEnvelope(make(10, 10))).toBeUndefined(); // no note
    expect(decodeWelcomeEnvelope(make(11, 10))).toBeUndefined(); // longer than the body
    expect(decodeWelcomeEnvelope(make(0xffffffff, 10))).toBeUndefined();
    expect(decodeWelcomeEnvelope(new Uint8Array([0x03, 0, 0]))).toBeUndefined();
    expect(decodeWelcomeEnvelope(make(4, 10))).toMatchObject({ kind: 'welcome', welcome: bytes(4, 0), note: bytes(6, 0) });
  });

  it('never throws on arbitrary bytes, and what it accepts encodes back to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (body) => {
        const e = decodeWelcomeEnvelope(body);
        if (e) expect(encodeWelcomeEnvelope(e)).toEqual(body);
      }),
      { numRuns: 2_000 },
    );
  });
});

/** bytesEqual (bytes.ts): the one byte equality of the code base. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from './bytes.js';

describe('bytesEqual', () => {
  it('is true for the same bytes, whatever the buffers behind them', () => {
    const backing = Uint8Array.of(9, 1, 2, 3, 9);
    expect(bytesEqual(backing.subarray(1, 4), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(bytesEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  it('is false for a different length, and for a difference at the first, a middle or the last byte', () => {
    const a = Uint8Array.of(1, 2, 3, 4);
    expect(bytesEqual(a, Uint8Array.of(1, 2, 3))).toBe(false);
    expect(bytesEqual(a, Uint8Array.of(1, 2, 3, 4, 0))).toBe(false);
    for (let i = 0; i < a.length; i++) {
      const b = a.slice();
      b[i] = (b[i] as number) ^ 0x80;
      expect(bytesEqual(a, b)).toBe(false);
    }
  });

  it('agrees with comparing byte by byte (property), and a tampered byte is seen', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        expect(bytesEqual(a, b)).toBe(a.length === b.length && a.every((x, i) => x === b[i]));
        expect(bytesEqual(a, a.slice())).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (a, at, flip) => {
        const b = a.slice();
        const i = at % a.length;
        b[i] = (b[i] as number) ^ flip;
        expect(bytesEqual(a, b)).toBe(false);
      }),
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { formatFingerprint, roomCode, safetyNumber, useSha512 } from './fingerprint.js';

const a = new Uint8Array(32).fill(0xaa);
const b = new Uint8Array(32).fill(0xbb);

describe('fingerprints, safety numbers, room codes', () => {
  it('formatFingerprint: 12 groups of 5 digits, deterministic, key-dependent', async () => {
    const f = await formatFingerprint(a);
    expect(f).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(await formatFingerprint(a)).toBe(f);
    expect(await formatFingerprint(b)).not.toBe(f);
  });

  it('safetyNumber: 60 digits, the same on both sides, differs from each fingerprint', async () => {
    const ab = await safetyNumber(a, b);
    expect(ab).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(await safetyNumber(b, a)).toBe(ab);
    expect(await safetyNumber(a, a)).not.toBe(ab);
    const c = new Uint8Array(32).fill(0xcc);
    expect(await safetyNumber(a, c)).not.toBe(ab);
    // Each side's half is recognisable: a's half appears in every pair with a.
    const half = (await safetyNumber(a, a)).slice(0, 35);
    expect(ab.includes(half)).toBe(true);
  });

  it('roomCode: 4 groups of 4 digits of the epoch authenticator', async () => {
    const ea = new Uint8Array(32).fill(7);
    const code = await roomCode(ea);
    expect(code).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
    expect(await roomCode(ea.slice())).toBe(code);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), async (x) => {
        expect(await roomCode(x)).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses inputs of the wrong shape', async () => {
    for (const bad of [new Uint8Array(31), new Uint8Array(33), undefined, 'abc', [1]]) {
      await expect(formatFingerprint(bad as unknown as Uint8Array)).rejects.toThrow(TypeError);
      await expect(safetyNumber(a, bad as unknown as Uint8Array)).rejects.toThrow(TypeError);
    }
    await expect(roomCode(new Uint8Array(8))).rejects.toThrow(TypeError);
  });

  it('useSha512: another SHA-512 gives the same digits; anything else is refused', async () => {
    const before = await formatFingerprint(a);
    let calls = 0;
    useSha512((d) => (calls++, sha512(d)));
    try {
      expect(await formatFingerprint(a)).toBe(before);
      expect(calls).toBeGreaterThan(5000);
    } finally {
      useSha512(sha512);
    }
    expect(() => useSha512((d) => sha256(d))).toThrow(TypeError);
    expect(await formatFingerprint(a)).toBe(before);
  });
});

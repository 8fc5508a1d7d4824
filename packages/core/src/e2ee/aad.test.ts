import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomId } from '../protocol/ids.js';
import { decodeAad, encodeAad } from './aad.js';
import { IdWindow } from './dedup.js';

const id = fc.stringMatching(/^[A-Za-z0-9_-]{22}$/);

describe('AppAad encoding', () => {
  it('round-trips, with and without expiry', () => {
    fc.assert(
      fc.property(
        id,
        id,
        fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
        (room, mid, expiresAt) => {
          const aad = expiresAt === undefined ? { room, id: mid } : { room, id: mid, expiresAt };
          expect(decodeAad(encodeAad(aad))).toEqual(aad);
        },
      ),
    );
  });

  it('is canonical: a changed byte never decodes to the same value', () => {
    const aad = { room: randomId(), id: randomId(), expiresAt: 1_800_000_000_000 };
    const bytes = encodeAad(aad);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const t = bytes.slice();
        t[i]! ^= x;
        expect(decodeAad(t)).not.toEqual(aad);
      }),
    );
  });

  it('refuses malformed input and values', () => {
    const good = encodeAad({ room: randomId(), id: randomId() });
    for (const bad of [
      new Uint8Array(0),
      good.slice(0, -1),
      Uint8Array.of(...good, 0),
      Uint8Array.of(9, ...good.slice(1)),
    ])
      expect(decodeAad(bad)).toBeUndefined();
    expect(() => encodeAad({ room: 'short', id: randomId() })).toThrow(TypeError);
    expect(() => encodeAad({ room: randomId(), id: randomId(), expiresAt: -1 })).toThrow(TypeError);
    expect(() => encodeAad({ room: randomId(), id: randomId(), expiresAt: 1.5 })).toThrow(TypeError);
  });
});

describe('IdWindow (dedup memory)', () => {
  it('remembers the last N ids and no more', () => {
    const w = new IdWindow(3);
    for (const x of ['a', 'b', 'c']) w.add(x);
    expect(['a', 'b', 'c'].every((x) => w.has(x))).toBe(true);
    w.add('d');
    expect(w.has('a')).toBe(false);
    expect(w.has('d')).toBe(true);
    w.add('d');
    expect(w.size).toBe(3);
    for (let i = 0; i < 10_000; i++) w.add(`x${i}`);
    expect(w.size).toBe(3);
  });
});

import { describe, expect, it } from 'vitest';
import { PinStore } from './pins.js';

const k1 = new Uint8Array(32).fill(1);
const k2 = new Uint8Array(32).fill(2);
const k3 = new Uint8Array(32).fill(3);

describe('PinStore (trust on first use, per name and key)', () => {
  it('new, then same', () => {
    const p = new PinStore();
    expect(p.observe('alice', k1)).toBe('new');
    expect(p.observe('alice', k1)).toBe('same');
    expect(p.isBlocked('alice', k1)).toBe(false);
    expect(p.get('alice')).toEqual({ fingerprint: k1, verified: false });
  });

  it('changed (unverified): warned every time until trusted, never blocked', () => {
    const p = new PinStore();
    p.observe('alice', k1);
    expect(p.observe('alice', k2)).toBe('changed');
    expect(p.observe('alice', k2)).toBe('changed');
    expect(p.isBlocked('alice', k2)).toBe(false);
    expect(p.get('alice')?.changedTo).toEqual(k2);
    p.trust('alice', k2);
    expect(p.observe('alice', k2)).toBe('same');
    expect(p.observe('alice', k1)).toBe('changed');
  });

  // Issue 12, attack 3: the block of a verified member's changed key was lifted by seeing the
  // old key again anywhere, and /users then showed the impostor's key as verified.
  it('verifiedKeyChangeStaysBlockedWhenTheOldKeyIsSeenAgain', () => {
    const p = new PinStore();
    p.observe('alice', k1);
    p.verify('alice', k1);
    expect(p.isVerified('alice', k1)).toBe(true);
    expect(p.observe('alice', k2)).toBe('changed');
    expect(p.isBlocked('alice', k2)).toBe(true);
    // The verified key seen again (in this room or another), as often as anyone likes:
    for (let i = 0; i < 3; i++) expect(p.observe('alice', k1)).toBe('same');
    expect(p.isBlocked('alice', k2)).toBe(true);
    expect(p.isVerified('alice', k2)).toBe(false);
    expect(p.isBlocked('alice', k1)).toBe(false);
    expect(p.isVerified('alice', k1)).toBe(true);
    // Checking (the join-time refusal) does not lift it either.
    expect(p.check('alice', k1)).toBe('same');
    expect(p.isBlocked('alice', k2)).toBe(true);
    // A third key is blocked too; verifying k2 lifts k2's block, not k3's, and k2 is now the verified one.
    expect(p.isBlocked('alice', k3)).toBe(true);
    p.verify('alice', k2);
    expect(p.isBlocked('alice', k2)).toBe(false);
    expect(p.isVerified('alice', k2)).toBe(true);
    expect(p.isVerified('alice', k1)).toBe(false);
    expect(p.isBlocked('alice', k1)).toBe(true);
    expect(p.isBlocked('alice', k3)).toBe(true);
  });

  it('trust accepts a changed key unverified (and unblocks it); trusting the verified key keeps it verified', () => {
    const p = new PinStore();
    p.observe('alice', k1);
    p.verify('alice', k1);
    p.trust('alice', k1);
    expect(p.isVerified('alice', k1)).toBe(true);
    p.observe('alice', k3);
    expect(p.isBlocked('alice', k3)).toBe(true);
    p.trust('alice', k3);
    expect(p.isBlocked('alice', k3)).toBe(false);
    expect(p.isVerified('alice', k3)).toBe(false);
    expect(p.get('alice')).toEqual({ fingerprint: k3, verified: false });
    // The old key is now only a changed key (warned), not blocked: nothing verified is pinned.
    expect(p.observe('alice', k1)).toBe('changed');
    expect(p.isBlocked('alice', k1)).toBe(false);
  });

  it('verified belongs to a (name, key): the same key under another name, or another name, is not verified', () => {
    const p = new PinStore();
    p.verify('alice', k1);
    expect(p.isVerified('alice', k1)).toBe(true);
    expect(p.isVerified('bob', k1)).toBe(false);
    expect(p.observe('bob', k2)).toBe('new');
    expect(p.isVerified('bob', k2)).toBe(false);
    expect(p.isBlocked('bob', k1)).toBe(false);
  });

  it('check reads without recording; names are independent; unknown names', () => {
    const p = new PinStore();
    expect(p.check('bob', k1)).toBe('new');
    expect(p.get('bob')).toBeUndefined();
    p.observe('bob', k1);
    expect(p.check('bob', k2)).toBe('changed');
    expect(p.get('bob')?.changedTo).toBeUndefined();
    expect(p.observe('carol', k2)).toBe('new');
    expect(p.isBlocked('nobody', k1)).toBe(false);
    expect(p.isVerified('nobody', k1)).toBe(false);
    p.forget('bob');
    expect(p.observe('bob', k2)).toBe('new');
  });

  it('stores copies, and refuses fingerprints of the wrong shape', () => {
    const p = new PinStore();
    const k = k1.slice();
    p.observe('alice', k);
    k.fill(9);
    expect(p.observe('alice', k1)).toBe('same');
    for (const bad of [new Uint8Array(31), undefined, 'x', [1, 2]]) {
      const b = bad as unknown as Uint8Array;
      expect(() => p.observe('alice', b)).toThrow(TypeError);
      expect(() => p.verify('alice', b)).toThrow(TypeError);
      expect(() => p.trust('alice', b)).toThrow(TypeError);
      expect(() => p.isBlocked('alice', b)).toThrow(TypeError);
      expect(() => p.isVerified('alice', b)).toThrow(TypeError);
    }
  });
});

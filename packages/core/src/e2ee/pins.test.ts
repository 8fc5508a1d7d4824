import { describe, expect, it } from 'vitest';
import { PinStore } from './pins.js';

const k1 = new Uint8Array(32).fill(1);
const k2 = new Uint8Array(32).fill(2);
const k3 = new Uint8Array(32).fill(3);

describe('PinStore (trust on first use)', () => {
  it('new, then same', () => {
    const p = new PinStore();
    expect(p.observe('alice', k1)).toBe('new');
    expect(p.observe('alice', k1)).toBe('same');
    expect(p.isBlocked('alice')).toBe(false);
    expect(p.get('alice')).toEqual({ fingerprint: k1, verified: false });
  });

  it('changed (unverified): warned every time until trusted, never blocked', () => {
    const p = new PinStore();
    p.observe('alice', k1);
    expect(p.observe('alice', k2)).toBe('changed');
    expect(p.observe('alice', k2)).toBe('changed');
    expect(p.isBlocked('alice')).toBe(false);
    expect(p.get('alice')?.changedTo).toEqual(k2);
    expect(p.trust('alice')).toBe(true);
    expect(p.observe('alice', k2)).toBe('same');
    expect(p.observe('alice', k1)).toBe('changed');
  });

  it('blocked: a verified member whose key changed, until verified again', () => {
    const p = new PinStore();
    p.observe('alice', k1);
    expect(p.verify('alice')).toBe(true);
    expect(p.isVerified('alice')).toBe(true);
    expect(p.observe('alice', k2)).toBe('changed');
    expect(p.isBlocked('alice')).toBe(true);
    // The pinned key seen again (the change was undone): not blocked; the new key again: blocked …
    expect(p.observe('alice', k1)).toBe('same');
    expect(p.isBlocked('alice')).toBe(false);
    expect(p.observe('alice', k2)).toBe('changed');
    expect(p.isBlocked('alice')).toBe(true);
    // … re-verifying pins the new key as verified.
    expect(p.verify('alice')).toBe(true);
    expect(p.isBlocked('alice')).toBe(false);
    expect(p.isVerified('alice')).toBe(true);
    expect(p.observe('alice', k2)).toBe('same');
  });

  it('trust accepts a changed key unverified (and unblocks)', () => {
    const p = new PinStore();
    p.observe('alice', k1);
    p.verify('alice');
    p.observe('alice', k3);
    expect(p.isBlocked('alice')).toBe(true);
    expect(p.trust('alice')).toBe(true);
    expect(p.isBlocked('alice')).toBe(false);
    expect(p.isVerified('alice')).toBe(false);
    expect(p.get('alice')).toEqual({ fingerprint: k3, verified: false });
  });

  it('check reads without recording; names are independent; unknown names', () => {
    const p = new PinStore();
    expect(p.check('bob', k1)).toBe('new');
    expect(p.get('bob')).toBeUndefined();
    p.observe('bob', k1);
    expect(p.check('bob', k2)).toBe('changed');
    expect(p.get('bob')?.changedTo).toBeUndefined();
    expect(p.observe('carol', k2)).toBe('new');
    expect(p.verify('nobody')).toBe(false);
    expect(p.trust('nobody')).toBe(false);
    expect(p.isBlocked('nobody')).toBe(false);
    p.forget('bob');
    expect(p.observe('bob', k2)).toBe('new');
  });

  it('stores copies, and refuses fingerprints of the wrong shape', () => {
    const p = new PinStore();
    const k = k1.slice();
    p.observe('alice', k);
    k.fill(9);
    expect(p.observe('alice', k1)).toBe('same');
    for (const bad of [new Uint8Array(31), undefined, 'x', [1, 2]])
      expect(() => p.observe('alice', bad as unknown as Uint8Array)).toThrow(TypeError);
  });
});

import { describe, expect, it } from 'vitest';
import { GapTracker } from './gaps.js';

describe('GapTracker', () => {
  it('numbers what this device sends from 1', () => {
    const g = new GapTracker();
    expect([g.next(), g.next(), g.next()]).toEqual([1, 2, 3]);
  });
  it('takes the first number from a sender as its baseline', () => {
    const g = new GapTracker();
    expect(g.seen('a', 17)).toBe(0);
    expect(g.seen('a', 18)).toBe(0);
  });
  it('flags how many are missing, per sender', () => {
    const g = new GapTracker();
    g.seen('a', 1);
    g.seen('b', 1);
    expect(g.seen('a', 4)).toBe(2);
    expect(g.seen('b', 2)).toBe(0);
  });
  it('shows a late message without a flag and does not flag the gap twice', () => {
    const g = new GapTracker();
    g.seen('a', 1);
    expect(g.seen('a', 3)).toBe(1);
    expect(g.seen('a', 2)).toBe(0);
    expect(g.seen('a', 4)).toBe(0);
  });
  it('ignores messages without a number (older clients)', () => {
    const g = new GapTracker();
    expect(g.seen('a', undefined)).toBe(0);
  });
});

/** The token bucket behind the rate limits (THREATS A.8), on an injected clock. */
import { describe, expect, it } from 'vitest';
import { TokenBucket } from './limiter.js';

describe('token bucket', () => {
  it('allows the burst, then the refill rate, never more than the capacity', () => {
    let now = 0;
    const b = new TokenBucket(5, 10, () => now); // 5 tokens, 10 per second
    for (let i = 0; i < 5; i++) expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
    now += 100; // one token
    expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
    now += 60_000; // refills to the capacity only
    let n = 0;
    while (b.take()) n++;
    expect(n).toBe(5);
  });

  it('takes n tokens at once or none, and refunds', () => {
    let now = 0;
    const b = new TokenBucket(100, 100, () => now);
    expect(b.take(60)).toBe(true);
    expect(b.take(60)).toBe(false); // 40 left: refused, nothing taken
    expect(b.take(40)).toBe(true);
    b.refund(10);
    expect(b.take(10)).toBe(true);
    expect(b.take(1)).toBe(false);
    now += 1000;
    expect(b.take(100)).toBe(true);
  });

  it('refuses nonsense parameters', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN, 1)).toThrow(RangeError);
  });
});

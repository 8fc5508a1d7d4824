/**
 * Proven bounds (bounds.ts): a verified interval anchored at the query's send and receive
 * instants always contains the true time later on, whatever the server's processing instant
 * and the clock's rate error within phi; ProvenClock goes stale and never guesses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anchorInterval, boundsAt, intersectBounds, isNonEmpty, ProvenClock } from './bounds.js';

describe('anchored bounds', () => {
  it('earliest counts from the reply, latest from the request', () => {
    const b = anchorInterval({ earliestMs: 1_000_000, latestMs: 1_006_000 }, 100, 350);
    expect(b).toEqual({ earliestMs: 1_000_000, earliestAt: 350, latestMs: 1_006_000, latestAt: 100 });
    expect(boundsAt(b, 1_350, 0)).toEqual({ earliestMs: 1_001_000, latestMs: 1_007_250 });
    // 100 ppm over 1,000 s: ±100 ms more.
    expect(boundsAt(b, 1_000_350, 100)).toEqual({
      earliestMs: 1_000_000 + 1_000_000 - 100,
      latestMs: 1_006_000 + 1_000_250 + 101,
    });
  });

  it('always contain the true time (any processing instant, latency, drift within phi)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4e12 }), // true time at local instant 0
        fc.integer({ min: 0, max: 10_000 }), // sent at
        fc.integer({ min: 0, max: 5_000 }), // round trip
        fc.double({ min: 0, max: 1, noNaN: true }), // where in the round trip the server signed
        fc.integer({ min: 1, max: 10_000 }), // radius ms
        fc.double({ min: -1, max: 1, noNaN: true }), // where in the radius the server's error lies
        fc.integer({ min: 0, max: 1e9 }), // how long after we ask
        fc.double({ min: -100e-6, max: 100e-6, noNaN: true }), // true rate error of our clock
        (t0, sentAt, rtt, where, radius, err, wait, rate) => {
          // phi bounds the rate error: true elapsed = local elapsed × (1 + rate), |rate| ≤ phi.
          const trueAt = (local: number): number => t0 + local * (1 + rate);
          const signedLocal = sentAt + where * rtt;
          const midpoint = trueAt(signedLocal) + err * radius;
          const interval = { earliestMs: Math.floor(midpoint - radius), latestMs: Math.ceil(midpoint + radius) };
          const b = anchorInterval(interval, sentAt, sentAt + rtt);
          const now = sentAt + rtt + wait;
          const at = boundsAt(b, now, 100);
          expect(at.earliestMs).toBeLessThanOrEqual(trueAt(now) + 1e-6);
          expect(at.latestMs).toBeGreaterThanOrEqual(trueAt(now) - 1e-6);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('intersection keeps the greatest earliest and the least latest line', () => {
    const a = anchorInterval({ earliestMs: 1_000, latestMs: 9_000 }, 0, 10);
    const b = anchorInterval({ earliestMs: 4_000, latestMs: 20_000 }, 100, 200);
    const i = intersectBounds(a, b, 0);
    expect(boundsAt(i, 1_000, 0)).toEqual({ earliestMs: 4_800, latestMs: 10_000 });
    const disjoint = intersectBounds(a, anchorInterval({ earliestMs: 50_000, latestMs: 60_000 }, 0, 10), 0);
    expect(isNonEmpty(disjoint, 10, 0)).toBe(false);
    expect(isNonEmpty(i, 1_000, 0)).toBe(true);
  });

  it('refuses instants before the measurement', () => {
    const b = anchorInterval({ earliestMs: 0, latestMs: 1 }, 10, 20);
    expect(() => boundsAt(b, 15)).toThrow(/monotonic/);
    expect(() => anchorInterval({ earliestMs: 0, latestMs: 1 }, 20, 10)).toThrow(/sentAt ≤ receivedAt/);
  });
});

describe('ProvenClock', () => {
  it('has no time until measured, extrapolates, then goes stale', () => {
    let mono = 0;
    const clock = new ProvenClock({ now: () => mono, maxAgeMs: 60_000, driftPpm: 0 });
    expect(clock.current()).toEqual({ kind: 'none' });
    expect(clock.compare(0)).toBe('unknown');
    clock.update(anchorInterval({ earliestMs: 1_000_000, latestMs: 1_010_000 }, 0, 100));
    mono = 30_100;
    expect(clock.current()).toEqual({ kind: 'bounds', earliestMs: 1_030_000, latestMs: 1_040_100, ageMs: 30_000 });
    expect(clock.compare(1_029_999)).toBe('past');
    expect(clock.compare(1_030_000)).toBe('past');
    expect(clock.compare(1_035_000)).toBe('unknown');
    expect(clock.compare(1_040_101)).toBe('future');
    mono = 60_101;
    expect(clock.current()).toEqual({ kind: 'stale', code: 'E_ROUGHTIME_STALE', ageMs: 60_001 });
    expect(clock.compare(0)).toBe('unknown'); // stale: even a long-past instant is not judged
  });

  it('a clock that goes backwards is stale, never trusted', () => {
    let mono = 1_000;
    const clock = new ProvenClock({ now: () => mono });
    clock.update(anchorInterval({ earliestMs: 0, latestMs: 1 }, 900, 1_000));
    mono = 500;
    expect(clock.current().kind).toBe('stale');
  });
});

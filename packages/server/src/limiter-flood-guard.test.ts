/**
 * The flood guard (four fields of each connection) decides exactly as three separate token buckets
 * did (frames, bytes, refusals), on any sequence of frame sizes and clock steps.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fillGuard, takeFromGuard, TokenBucket, type FloodGuard, type GuardSpec } from './limiter.js';

describe('flood guard', () => {
  it('matches three token buckets on random traffic', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.nat(300), size: fc.nat(12_000) }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 100 }),
        (steps, burst, rate) => {
          let now = 0;
          const clock = (): number => now;
          const spec: GuardSpec = {
            frames: { capacity: burst, perSecond: rate },
            bytes: { capacity: 20_000, perSecond: 20_000 },
            refusals: { capacity: 5, perSecond: rate / 5 },
            now: clock,
          };
          const guard: FloodGuard = { guardFrames: 0, guardBytes: 0, guardRefusals: 0, guardLast: 0 };
          fillGuard(guard, spec);
          const frames = new TokenBucket(burst, rate, clock);
          const bytes = new TokenBucket(20_000, 20_000, clock);
          const refusals = new TokenBucket(5, rate / 5, clock);
          for (const { dt, size } of steps) {
            now += dt;
            // What Connection.takeToken did with three buckets: a frame the byte bucket refuses
            // gives its frame token back.
            let want = '';
            if (frames.take()) {
              if (bytes.take(size)) want = 'ok';
              else frames.refund();
            }
            if (want === '') want = refusals.take() ? 'refused' : 'abuse';
            expect(takeFromGuard(guard, spec, size)).toBe(want);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** formatDuration (duration.ts): the words every UI shows for a duration. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration } from './commands.js';
import { formatDuration } from './duration.js';

describe('formatDuration', () => {
  it('writesWholeUnitsLargestFirst', () => {
    expect(formatDuration(90_000)).toBe('1m 30s');
    expect(formatDuration(86_400_000 + 3_000)).toBe('1d 3s');
    expect(formatDuration(300_000)).toBe('5m');
    expect(formatDuration(7 * 86_400_000)).toBe('7d');
    expect(formatDuration(3_600_000 + 60_000 + 1_000)).toBe('1h 1m 1s');
  });

  it('roundsDownToTheSecondAndWritesLessThanASecondInMs', () => {
    expect(formatDuration(1_500)).toBe('1s');
    expect(formatDuration(999)).toBe('999ms');
    expect(formatDuration(0)).toBe('0ms');
    expect(formatDuration(0.7)).toBe('0ms');
  });

  it('readsBackAsTheDurationTypedForEveryUnit (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 168 }), fc.constantFrom('s', 'm', 'h', 'd'), (n, unit) => {
        const ms = parseDuration(`${n}${unit}`);
        fc.pre(ms !== undefined);
        // Each part is itself a duration parseDuration reads; together they add up to the whole.
        const parts = formatDuration(ms).split(' ');
        expect(parts.reduce((sum, p) => sum + (parseDuration(p) as number), 0)).toBe(ms);
      }),
    );
  });

  it('refusesWhatIsNotADuration', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5m', undefined])
      expect(() => formatDuration(bad as number), String(bad)).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
  });
});

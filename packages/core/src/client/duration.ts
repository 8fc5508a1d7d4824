/**
 * The one formatter of a duration for people (the room's message timer, "heard from … ago"),
 * for every UI. Its inverse for what people type is `parseDuration` (commands.ts).
 */
import { UsageError } from '../protocol/errors.js';

const UNITS: readonly (readonly [number, string])[] = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'm'],
  [1_000, 's'],
];

/**
 * Whole units, largest first, the units that are zero left out: 90_000 → "1m 30s",
 * 86_403_000 → "1d 3s", 300_000 → "5m". Rounded down to the second ("1.5 s" reads "1s");
 * below a second, in milliseconds ("500ms", "0ms").
 */
export function formatDuration(ms: number): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
    throw new UsageError('E_USAGE', `"ms" expected a finite number ≥ 0, got ${typeof ms === 'number' ? String(ms) : typeof ms}`);
  const out: string[] = [];
  let rest = Math.floor(ms);
  for (const [size, unit] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) out.push(`${n}${unit}`);
    rest -= n * size;
  }
  return out.length > 0 ? out.join(' ') : `${Math.floor(ms)}ms`;
}

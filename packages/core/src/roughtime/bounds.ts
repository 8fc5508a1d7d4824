/**
 * Proven time bounds and their extrapolation with a local monotonic clock.
 *
 * A valid reply proves the server signed at an instant t_p, between our sending the request
 * (local monotonic time s) and receiving the reply (r), when the true time was within
 * [MIDP - RADI, MIDP + RADI] (RFC 10049 §5.4). At a later local time T the true time is
 * true(t_p) + (T - t_p), and T - r ≤ T - t_p ≤ T - s, so
 *     earliest(T) = (MIDP - RADI) + (T - r)      (anchored at the reply's arrival)
 *     latest(T)   = (MIDP + RADI) + (T - s)      (anchored at the request's departure)
 * widened by the clock's rate error phi (§6 "Integration into NTP"): we assume true elapsed
 * time is within (1 ± phi) × local elapsed time, so local time counts (1 - phi) for the
 * earliest bound and (1 + phi) for the latest.
 *
 * Every lower bound grows with the same slope, and so does every upper bound: the intersection
 * of several anchored intervals is again one anchored interval (the greatest lower line and the
 * least upper line), which is what `intersectBounds` keeps.
 */
import { anonneg } from './bytes.js';
import type { TimeInterval } from './verify.js';
import { UsageError } from '../protocol/errors.js';

/** Default bound on the local clock's rate error: 100 ppm (a common crystal is 20-50). */
export const DEFAULT_DRIFT_PPM = 100;
/**
 * Default age after which extrapolated bounds are refused: 10 minutes. A monotonic clock may
 * stand still while the machine sleeps (browsers, and CLOCK_MONOTONIC on Linux), which would
 * make the latest bound too early; measuring again bounds that error.
 */
export const DEFAULT_MAX_AGE_MS = 10 * 60_000;

/** Bounds in Unix ms, each anchored at the local monotonic instant (ms) it was true at. */
export interface AnchoredBounds {
  readonly earliestMs: number;
  readonly earliestAt: number;
  readonly latestMs: number;
  readonly latestAt: number;
}

/** From one verified interval and the local send/receive instants of its query. */
export function anchorInterval(interval: TimeInterval, sentAt: number, receivedAt: number): AnchoredBounds {
  if (!Number.isFinite(sentAt) || !Number.isFinite(receivedAt) || receivedAt < sentAt) {
    throw new UsageError(
      'E_USAGE',
      `"sentAt"/"receivedAt" expected finite instants with sentAt ≤ receivedAt, got ${sentAt}, ${receivedAt}`,
    );
  }
  return { earliestMs: interval.earliestMs, earliestAt: receivedAt, latestMs: interval.latestMs, latestAt: sentAt };
}

/** The bounds at local instant `now` (≥ both anchors). */
export function boundsAt(b: AnchoredBounds, now: number, driftPpm = DEFAULT_DRIFT_PPM): TimeInterval {
  const phi = anonneg('driftPpm', driftPpm) / 1e6;
  if (!Number.isFinite(now) || now < b.earliestAt || now < b.latestAt) {
    throw new UsageError('E_USAGE', '"now" expected a monotonic instant not before the measurement');
  }
  return {
    earliestMs: Math.floor(b.earliestMs + (now - b.earliestAt) * (1 - phi)),
    latestMs: Math.ceil(b.latestMs + (now - b.latestAt) * (1 + phi)),
  };
}

/** Intersection of two anchored intervals; compares lines at the later anchor. May be empty. */
export function intersectBounds(a: AnchoredBounds, b: AnchoredBounds, driftPpm = DEFAULT_DRIFT_PPM): AnchoredBounds {
  const phi = anonneg('driftPpm', driftPpm) / 1e6;
  const t = Math.max(a.earliestAt, a.latestAt, b.earliestAt, b.latestAt);
  const lower = (x: AnchoredBounds): number => x.earliestMs + (t - x.earliestAt) * (1 - phi);
  const upper = (x: AnchoredBounds): number => x.latestMs + (t - x.latestAt) * (1 + phi);
  const lo = lower(a) >= lower(b) ? a : b;
  const hi = upper(a) <= upper(b) ? a : b;
  return { earliestMs: lo.earliestMs, earliestAt: lo.earliestAt, latestMs: hi.latestMs, latestAt: hi.latestAt };
}

/** True when the bounds contain at least one instant (evaluated at `now`). */
export function isNonEmpty(b: AnchoredBounds, now: number, driftPpm = DEFAULT_DRIFT_PPM): boolean {
  const at = boundsAt(b, now, driftPpm);
  return at.earliestMs <= at.latestMs;
}

export type CurrentTime =
  | { readonly kind: 'bounds'; readonly earliestMs: number; readonly latestMs: number; readonly ageMs: number }
  | { readonly kind: 'stale'; readonly code: 'E_ROUGHTIME_STALE'; readonly ageMs: number }
  | { readonly kind: 'none' };

export interface ProvenClockOptions {
  /** Local monotonic clock in ms (performance.now or a test clock). Default performance.now. */
  readonly now?: () => number;
  readonly driftPpm?: number;
  readonly maxAgeMs?: number;
}

/**
 * Holds the best proven bounds so far and answers "what time is it, provably?" without a new
 * query until the bounds are older than `maxAgeMs`. It never reads the wall clock.
 */
export class ProvenClock {
  readonly #now: () => number;
  readonly #driftPpm: number;
  readonly #maxAgeMs: number;
  #bounds: AnchoredBounds | undefined;
  #measuredAt = 0;

  constructor(options: ProvenClockOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    if (typeof this.#now !== 'function') throw new UsageError('E_USAGE', '"now" expected a function');
    this.#driftPpm = anonneg('driftPpm', options.driftPpm ?? DEFAULT_DRIFT_PPM);
    this.#maxAgeMs = anonneg('maxAgeMs', options.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
  }

  /**
   * Adopts new bounds (from `measure`). They replace the old ones rather than being intersected
   * with them: old bounds may be wrong if the monotonic clock stood still.
   */
  update(bounds: AnchoredBounds): void {
    this.#bounds = bounds;
    this.#measuredAt = Math.max(bounds.earliestAt, bounds.latestAt);
  }

  current(): CurrentTime {
    if (this.#bounds === undefined) return { kind: 'none' };
    const now = this.#now();
    const ageMs = now - this.#measuredAt;
    if (!(ageMs >= 0) || ageMs > this.#maxAgeMs) return { kind: 'stale', code: 'E_ROUGHTIME_STALE', ageMs };
    return { kind: 'bounds', ...boundsAt(this.#bounds, now, this.#driftPpm), ageMs };
  }

  /**
   * Where `instantMs` (Unix ms) lies relative to the proven present: 'past' only when even the
   * earliest possible present is at or after it, 'future' only when even the latest is before
   * it; otherwise (or without fresh bounds) 'unknown'. An expiry is certain only when 'past'.
   */
  compare(instantMs: number): 'past' | 'future' | 'unknown' {
    const c = this.current();
    if (c.kind !== 'bounds' || !Number.isFinite(instantMs)) return 'unknown';
    if (c.earliestMs >= instantMs) return 'past';
    if (c.latestMs < instantMs) return 'future';
    return 'unknown';
  }
}

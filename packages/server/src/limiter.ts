/**
 * A token bucket (THREATS A.8): `capacity` tokens, refilled continuously at `perSecond`. A frame
 * takes one token from a frame bucket, or its size from a byte bucket; a frame that finds too
 * few tokens is refused and takes none. The clock is injected so that tests can drive it.
 */
export type Clock = () => number;

export const monotonicMs: Clock = () => performance.now();

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: Clock = monotonicMs,
  ) {
    if (!(capacity >= 1) || !(perSecond > 0)) throw new RangeError(`token bucket expected capacity ≥ 1 and rate > 0, got ${capacity}, ${perSecond}`);
    this.tokens = capacity;
    this.last = now();
  }

  /** Takes `n` tokens if there are that many. */
  take(n = 1): boolean {
    const t = this.now();
    const elapsed = t - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.perSecond) / 1000);
      this.last = t;
    }
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Gives back `n` tokens taken for something that was refused elsewhere. */
  refund(n = 1): void {
    this.tokens = Math.min(this.capacity, this.tokens + n);
  }
}

export type GuardResult = 'ok' | 'refused' | 'abuse';
export type BucketSpec = { readonly capacity: number; readonly perSecond: number };
/** The three buckets' sizes and rates: one object per relay, shared by every connection. */
export type GuardSpec = {
  readonly frames: BucketSpec;
  readonly bytes: BucketSpec;
  readonly refusals: BucketSpec;
  readonly now: Clock;
};

/**
 * One connection's three buckets: frames, bytes, and the refusals it is forgiven before it counts
 * as abuse. They share one clock reading per frame; refilling all three at every frame gives
 * exactly what three separate buckets would, since min(c, min(c, t + a) + b) = min(c, t + a + b)
 * for a, b ≥ 0. They are four fields of the connection that owns them, not an object of their
 * own: an idle connection costs memory, not time (writer.ts keeps its queue the same way).
 */
export interface FloodGuard {
  guardFrames: number;
  guardBytes: number;
  guardRefusals: number;
  guardLast: number;
}

/** Full buckets, as of now. */
export function fillGuard(g: FloodGuard, spec: GuardSpec): void {
  g.guardFrames = spec.frames.capacity;
  g.guardBytes = spec.bytes.capacity;
  g.guardRefusals = spec.refusals.capacity;
  g.guardLast = spec.now();
}

/**
 * Charges a frame of `size` bytes to the frame and byte buckets: 'ok', or 'refused' (it took
 * nothing but one refusal), or 'abuse' once the refusals are spent (the peer keeps flooding).
 */
export function takeFromGuard(g: FloodGuard, spec: GuardSpec, size: number): GuardResult {
  const { frames, bytes, refusals, now } = spec;
  const t = now();
  const elapsed = t - g.guardLast;
  if (elapsed > 0) {
    g.guardFrames = Math.min(frames.capacity, g.guardFrames + (elapsed * frames.perSecond) / 1000);
    g.guardBytes = Math.min(bytes.capacity, g.guardBytes + (elapsed * bytes.perSecond) / 1000);
    g.guardRefusals = Math.min(refusals.capacity, g.guardRefusals + (elapsed * refusals.perSecond) / 1000);
    g.guardLast = t;
  }
  if (g.guardFrames >= 1 && g.guardBytes >= size) {
    g.guardFrames -= 1;
    g.guardBytes -= size;
    return 'ok';
  }
  if (g.guardRefusals >= 1) {
    g.guardRefusals -= 1;
    return 'refused';
  }
  return 'abuse';
}

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
 * One connection's three buckets in one small object (an idle connection costs memory, not
 * time): frames, bytes, and the refusals it is forgiven before it counts as abuse. They share
 * one clock reading per frame; refilling all three at every frame gives exactly what three
 * separate buckets would, since min(c, min(c, t + a) + b) = min(c, t + a + b) for a, b ≥ 0.
 */
export class FloodGuard {
  private frames: number;
  private bytes: number;
  private refusals: number;
  private last: number;

  constructor(private readonly spec: GuardSpec) {
    this.frames = spec.frames.capacity;
    this.bytes = spec.bytes.capacity;
    this.refusals = spec.refusals.capacity;
    this.last = spec.now();
  }

  /**
   * Charges a frame of `size` bytes to the frame and byte buckets: 'ok', or 'refused' (it took
   * nothing but one refusal), or 'abuse' once the refusals are spent (the peer keeps flooding).
   */
  take(size: number): GuardResult {
    const { frames, bytes, refusals, now } = this.spec;
    const t = now();
    const elapsed = t - this.last;
    if (elapsed > 0) {
      this.frames = Math.min(frames.capacity, this.frames + (elapsed * frames.perSecond) / 1000);
      this.bytes = Math.min(bytes.capacity, this.bytes + (elapsed * bytes.perSecond) / 1000);
      this.refusals = Math.min(refusals.capacity, this.refusals + (elapsed * refusals.perSecond) / 1000);
      this.last = t;
    }
    if (this.frames >= 1 && this.bytes >= size) {
      this.frames -= 1;
      this.bytes -= size;
      return 'ok';
    }
    if (this.refusals >= 1) {
      this.refusals -= 1;
      return 'refused';
    }
    return 'abuse';
  }
}

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

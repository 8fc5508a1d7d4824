/**
 * A token bucket (THREATS A.8): `capacity` tokens, refilled continuously at `perSecond`. Each
 * frame takes one token; a frame that finds the bucket empty is refused. The clock is injected
 * so that tests can drive it.
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

  /** Takes one token if there is one. */
  take(): boolean {
    const t = this.now();
    const elapsed = t - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.perSecond) / 1000);
      this.last = t;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

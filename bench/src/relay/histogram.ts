/**
 * A latency histogram in microseconds, log-linear like HdrHistogram: exact below 64 µs, then 32
 * buckets per power of two (≤ 3 % error). Recording is one index computation and an increment.
 */
const SUB = 32;
const LINEAR = 64;
const SIZE = LINEAR + 27 * SUB;

export class Histogram {
  readonly counts = new Float64Array(SIZE);
  total = 0;

  record(us: number): void {
    const v = us > 0 ? Math.min(Math.floor(us), 0x7fffffff) : 0;
    let i: number;
    if (v < LINEAR) i = v;
    else {
      const e = 31 - Math.clz32(v) - 5; // ≥ 1
      i = LINEAR + (e - 1) * SUB + ((v >>> e) - SUB);
    }
    this.counts[i] = (this.counts[i] as number) + 1;
    this.total += 1;
  }

  /** The smallest value (bucket lower bound, in µs) at or below which fraction `q` of samples lie. */
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const want = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i] as number;
      if (seen >= want) return Histogram.lowerBound(i);
    }
    return Histogram.lowerBound(SIZE - 1);
  }

  static lowerBound(i: number): number {
    if (i < LINEAR) return i;
    const e = Math.floor((i - LINEAR) / SUB) + 1;
    return (((i - LINEAR) % SUB) + SUB) * 2 ** e;
  }

  /** Adds the counts of another histogram (from another run). */
  merge(counts: ArrayLike<number>): void {
    for (let i = 0; i < SIZE; i++) {
      const c = counts[i] ?? 0;
      this.counts[i] = (this.counts[i] as number) + c;
      this.total += c;
    }
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }
}

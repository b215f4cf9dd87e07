// Closed (good, total) per bucket of one series, as prefix sums so any window sum is O(1).
// Windows are [from, to) in event time and aligned to bucket boundaries; buckets outside the
// stored range count as zero (no events there, or before history began).

export interface WindowSums {
  good: number;
  total: number;
}

export class BucketCounts {
  private constructor(
    /** Start of the first stored bucket, epoch ms. */
    readonly startMs: number,
    readonly bucketMs: number,
    private readonly good: Float64Array,
    private readonly total: Float64Array,
  ) {}

  /** good[i], total[i] belong to the bucket starting at startMs + i * bucketMs. */
  static fromBuckets(startMs: number, bucketMs: number, good: ArrayLike<number>, total: ArrayLike<number>): BucketCounts {
    if (good.length !== total.length) throw new Error('good and total must have the same length');
    const g = new Float64Array(good.length + 1);
    const t = new Float64Array(total.length + 1);
    for (let i = 0; i < good.length; i++) {
      g[i + 1] = g[i] + good[i];
      t[i + 1] = t[i] + total[i];
    }
    return new BucketCounts(startMs, bucketMs, g, t);
  }

  get endMs(): number {
    return this.startMs + (this.good.length - 1) * this.bucketMs;
  }

  sum(fromMs: number, toMs: number): WindowSums {
    const n = this.good.length - 1;
    const a = clamp(Math.ceil((fromMs - this.startMs) / this.bucketMs), 0, n);
    const b = clamp(Math.ceil((toMs - this.startMs) / this.bucketMs), 0, n);
    if (b <= a) return { good: 0, total: 0 };
    return { good: this.good[b] - this.good[a], total: this.total[b] - this.total[a] };
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

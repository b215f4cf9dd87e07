import { burnRate, errorBudgetRemaining, errorRatio } from '../../src/slo/budget';
import { readTier, windowBuckets } from '../../src/slo/burn-rate';
import { BucketCounts } from '../../src/slo/counts';
import { googleSreTiers, THIRTY_DAYS } from '../../src/topology/tiers';

const MIN = 60_000;

describe('ratios, burn rate, budget', () => {
  test('error ratio is a ratio of sums, never an average of ratios', () => {
    // a quiet minute with 1 error in 2 and a busy one with 0 in 998
    const c = BucketCounts.fromBuckets(0, MIN, [1, 998], [2, 998]);
    const s = c.sum(0, 2 * MIN);
    expect(errorRatio(s)).toBeCloseTo(1 / 1000, 12); // not (0.5 + 0) / 2
  });

  test('burn rate = error ratio / (1 - objective); null without events', () => {
    expect(burnRate({ good: 985, total: 1000 }, 0.999)).toBeCloseTo(15, 9);
    expect(burnRate({ good: 0, total: 0 }, 0.999)).toBeNull();
    expect(errorRatio({ good: 0, total: 0 })).toBeNull();
  });

  test('budget remaining: 1 untouched (also with no events), 0 spent, negative overspent', () => {
    expect(errorBudgetRemaining({ good: 0, total: 0 }, 0.999)).toBe(1);
    expect(errorBudgetRemaining({ good: 1000, total: 1000 }, 0.999)).toBe(1);
    expect(errorBudgetRemaining({ good: 999_500, total: 1_000_000 }, 0.999)).toBeCloseTo(0.5, 9);
    expect(errorBudgetRemaining({ good: 999_000, total: 1_000_000 }, 0.999)).toBeCloseTo(0, 9);
    expect(errorBudgetRemaining({ good: 998_000, total: 1_000_000 }, 0.999)).toBeCloseTo(-1, 9);
  });
});

describe('BucketCounts', () => {
  const c = BucketCounts.fromBuckets(10 * MIN, MIN, [1, 2, 3, 4], [10, 20, 30, 40]);
  test('window sums over [from, to), zero outside the stored range', () => {
    expect(c.sum(10 * MIN, 14 * MIN)).toEqual({ good: 10, total: 100 });
    expect(c.sum(11 * MIN, 13 * MIN)).toEqual({ good: 5, total: 50 });
    expect(c.sum(0, 11 * MIN)).toEqual({ good: 1, total: 10 });
    expect(c.sum(13 * MIN, 100 * MIN)).toEqual({ good: 4, total: 40 });
    expect(c.sum(20 * MIN, 30 * MIN)).toEqual({ good: 0, total: 0 });
    expect(c.endMs).toBe(14 * MIN);
  });
});

describe('tiers', () => {
  test('windows are whole buckets, at least one', () => {
    expect(windowBuckets(5 * MIN, MIN)).toBe(5);
    expect(windowBuckets(70_000, MIN)).toBe(1);
    expect(windowBuckets(100_000, MIN)).toBe(2);
    expect(windowBuckets(1000, MIN)).toBe(1);
  });

  test('google-sre for another period keeps thresholds and scales windows', () => {
    const seven = googleSreTiers(7 * 24 * 60 * MIN);
    expect(seven.map((t) => +t.threshold.toFixed(9))).toEqual([14.4, 6, 3, 1]);
    expect(seven[0].longWindowMs).toBe(Math.round((60 * MIN * 7) / 30));
    expect(googleSreTiers(THIRTY_DAYS)[3].longWindowMs).toBe(3 * 24 * 60 * MIN);
  });

  test('a tier breaches when both windows burn above the threshold and the long window has minEvents', () => {
    const [fast] = googleSreTiers(THIRTY_DAYS);
    // 60 minutes: 55 clean, then 5 minutes at 2% errors, 100 events a minute
    const good = Array.from({ length: 60 }, (_, i) => (i < 55 ? 100 : 98));
    const counts = BucketCounts.fromBuckets(0, MIN, good, Array(60).fill(100));
    const sum = (a: number, b: number) => counts.sum(a, b);
    const r = readTier(sum, 60 * MIN, fast, { objective: 0.999, minEvents: 10 }, MIN);
    expect(r.burnShort).toBeCloseTo(20, 9);
    expect(r.burnLong).toBeCloseTo((10 / 6000) / 0.001, 9); // 1.67: long window not burning
    expect(r.breaching).toBe(false);
    const hot = BucketCounts.fromBuckets(0, MIN, Array(60).fill(98), Array(60).fill(100));
    expect(readTier((a, b) => hot.sum(a, b), 60 * MIN, fast, { objective: 0.999, minEvents: 10 }, MIN).breaching).toBe(true);
    expect(readTier((a, b) => hot.sum(a, b), 60 * MIN, fast, { objective: 0.999, minEvents: 6001 }, MIN).breaching).toBe(false);
  });
});

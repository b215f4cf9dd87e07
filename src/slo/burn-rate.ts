import type { BurnRateTier } from '../topology/types';
import { burnRate } from './budget';
import type { WindowSums } from './counts';

// Multiwindow, multi-burn-rate alerting (Google SRE workbook, chapter 5): a tier breaches
// when both its long and its short window burn faster than its threshold, and the long window
// holds at least minEvents events (low-traffic guard). Windows end at an event-time bucket
// boundary and span a whole number of buckets.

/** A window's length in buckets: rounded, at least one. */
export function windowBuckets(windowMs: number, bucketMs: number): number {
  return Math.max(1, Math.round(windowMs / bucketMs));
}

export interface TierReading {
  tier: BurnRateTier;
  burnLong: number | null;
  burnShort: number | null;
  eventsLong: number;
  breaching: boolean;
}

/** `sum(from, to)` gives the series' (good, total) over [from, to). */
export function readTier(
  sum: (fromMs: number, toMs: number) => WindowSums,
  at: number,
  tier: BurnRateTier,
  slo: { objective: number; minEvents: number },
  bucketMs: number,
): TierReading {
  const long = sum(at - windowBuckets(tier.longWindowMs, bucketMs) * bucketMs, at);
  const short = sum(at - windowBuckets(tier.shortWindowMs, bucketMs) * bucketMs, at);
  const burnLong = burnRate(long, slo.objective);
  const burnShort = burnRate(short, slo.objective);
  const breaching =
    long.total >= slo.minEvents && burnLong !== null && burnShort !== null && burnLong > tier.threshold && burnShort > tier.threshold;
  return { tier, burnLong, burnShort, eventsLong: long.total, breaching };
}

// Adaptive sample rates: one rate per group (the values of adaptive.by), moved at the end of
// every window (windows.bucket, wall clock) so that the events a group keeps by rate come to
// targetPerSecond: rate = clamp(target / observed rate of its non-keep events, minRate, 1).
//
// State is per instance, in memory, and the target is per instance: N instances that share a
// topic's partitions each keep up to targetPerSecond per group, so the enriched topic gets up
// to N x target. An instance does not know N, and a group's traffic need not spread evenly
// over partitions, so dividing by the partition share would starve a group that lives on
// one partition. Divide the target yourself when you run a fixed number of instances.
//
// A restart starts every group again at the step's `rate`. Groups beyond maxGroups share one
// `__other__` rate; a group with no events in a window is forgotten (it starts again at
// `rate`), so the state stays bounded. A batch the conductor runs again (a retried Redis
// error, an isolated stage) is observed again: the rate is an estimate, not a ledger.

import { OTHER } from '../window/series-cap';

export interface AdaptiveOptions {
  targetPerSecond: number;
  minRate: number;
  maxGroups: number;
  windowMs: number;
  /** Rate of a group before its first window closed. */
  initialRate: number;
}

export function clampRate(target: number, observedPerSecond: number, minRate: number): number {
  if (observedPerSecond <= 0) return 1;
  return Math.min(1, Math.max(minRate, target / observedPerSecond));
}

export class AdaptiveRates {
  private readonly rates = new Map<string, number>();
  /** Groups with a rate or with events in the current window (OTHER excluded). */
  private readonly tracked = new Set<string>();
  private counts = new Map<string, number>();
  private windowStart: number | undefined;

  constructor(private readonly o: AdaptiveOptions, private readonly onRate: (group: string, rate: number | undefined) => void = () => {}) {}

  /** The group an event counts under: its own until maxGroups are known, then `__other__`. */
  group(key: string): string {
    if (this.tracked.has(key)) return key;
    if (this.tracked.size >= this.o.maxGroups) return OTHER;
    this.tracked.add(key);
    return key;
  }

  /** The group's current rate; closes the window first when the clock passed its end. */
  rateOf(group: string, nowMs: number): number {
    this.tick(nowMs);
    return this.rates.get(group) ?? this.o.initialRate;
  }

  /** One non-keep event of the group was seen (kept or not: the rate is of what arrives). */
  observe(group: string): void {
    this.counts.set(group, (this.counts.get(group) ?? 0) + 1);
  }

  tick(nowMs: number): void {
    if (this.windowStart === undefined) {
      this.windowStart = nowMs;
      return;
    }
    const elapsed = nowMs - this.windowStart;
    if (elapsed < this.o.windowMs) return;
    const seconds = elapsed / 1000;
    for (const group of this.rates.keys()) {
      if (!this.counts.has(group)) {
        this.rates.delete(group);
        this.tracked.delete(group);
        this.onRate(group, undefined);
      }
    }
    for (const [group, n] of this.counts) {
      const rate = clampRate(this.o.targetPerSecond, n / seconds, this.o.minRate);
      this.rates.set(group, rate);
      this.onRate(group, rate);
    }
    this.counts = new Map();
    this.windowStart = nowMs;
  }

  /** Current rates, for tests and the status of the step. */
  snapshot(): Map<string, number> {
    return new Map(this.rates);
  }
}

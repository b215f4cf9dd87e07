import { formatDuration } from '../topology/duration';
import type { BurnRateTier, SloSpec } from '../topology/types';
import type { Labels } from '../window/labels';
import { NO_DATA_TIER, stepNoData, stepSeries, type SloAlertState } from './alert-state';
import { burnRate, errorBudgetRemaining } from './budget';
import { readTier, windowBuckets } from './burn-rate';
import type { BucketCounts, WindowSums } from './counts';
import type { Alert, Severity } from '../window/records';

// Evaluates every SLO at each closed bucket boundary, in event-time order. Pure: the bucket
// history and the alert state come in, alerts and the next state go out, so replaying the
// same history gives the same alerts however the boundaries are batched. SloStore (store.ts)
// feeds it from Redis.

export interface SeriesCounts {
  labels: Labels;
  labelsKey: string;
  counts: BucketCounts;
}

export interface EvaluationInput {
  /** Last boundary already evaluated (exclusive). */
  after: number;
  /** Evaluate every boundary after + bucketMs, ..., through. */
  through: number;
  /** Start of the first bucket ever counted (no-data guard); null if unknown. */
  firstBucket: number | null;
  /** Bucket history per SLI name. */
  series: ReadonlyMap<string, readonly SeriesCounts[]>;
  /** Firing alerts per SLO name (not modified). */
  state: ReadonlyMap<string, SloAlertState>;
  /** Wall clock stamped on the records. */
  emittedAt: number;
}

export interface GaugeSample {
  slo: string;
  labels: Labels;
}

/** Values at the last evaluated boundary, for the tracklane_slo_* gauges. NaN: no events in the window. */
export interface SloGauges {
  at: number;
  budgetRemaining: Array<GaugeSample & { value: number }>;
  burnRate: Array<GaugeSample & { window: string; value: number }>;
  alertFiring: Array<GaugeSample & { severity: Severity; tier: string; value: 0 | 1 }>;
}

export interface EvaluationResult {
  alerts: Alert[];
  state: Map<string, SloAlertState>;
  gauges: SloGauges | null;
}

export interface SloTopology {
  name: string;
  windows: { bucketMs: number };
  slos: readonly SloSpec[];
}

export class SloEvaluator {
  private readonly bucketMs: number;

  constructor(private readonly topology: SloTopology) {
    this.bucketMs = topology.windows.bucketMs;
  }

  /** How much history before a boundary an SLI's SLOs read: the longest period or long window. */
  historyMs(sli: string): number {
    let span = 0;
    for (const slo of this.topology.slos) {
      if (slo.sli !== sli) continue;
      span = Math.max(span, windowBuckets(slo.periodMs, this.bucketMs) * this.bucketMs);
      for (const t of slo.tiers) span = Math.max(span, windowBuckets(t.longWindowMs, this.bucketMs) * this.bucketMs);
    }
    return span;
  }

  evaluate(input: EvaluationInput): EvaluationResult {
    const state = new Map<string, SloAlertState>();
    for (const slo of this.topology.slos) state.set(slo.name, { ...(input.state.get(slo.name) ?? {}) });
    const alerts: Alert[] = [];
    let gauges: SloGauges | null = null;
    for (let at = input.after + this.bucketMs; at <= input.through; at += this.bucketMs) {
      const last = at + this.bucketMs > input.through;
      if (last) gauges = { at, budgetRemaining: [], burnRate: [], alertFiring: [] };
      for (const slo of this.topology.slos) {
        this.step(slo, at, input, state.get(slo.name)!, alerts, gauges);
      }
    }
    return { alerts, state, gauges };
  }

  private step(slo: SloSpec, at: number, input: EvaluationInput, state: SloAlertState, alerts: Alert[], gauges: SloGauges | null): void {
    const b = this.bucketMs;
    const series = input.series.get(slo.sli) ?? [];
    const periodFrom = at - windowBuckets(slo.periodMs, b) * b;
    const ctx = { topology: this.topology.name, slo, at, emittedAt: input.emittedAt };
    const overall: WindowSums = { good: 0, total: 0 };
    for (const s of series) {
      const sum = (from: number, to: number) => s.counts.sum(from, to);
      const period = sum(periodFrom, at);
      overall.good += period.good;
      overall.total += period.total;
      const budgetRemaining = errorBudgetRemaining(period, slo.objective);
      const readings = slo.tiers.map((t) => readTier(sum, at, t, slo, b));
      const step = stepSeries(state, { labels: s.labels, labelsKey: s.labelsKey, tiers: readings, budgetRemaining }, ctx);
      alerts.push(...step.alerts);
      if (gauges) {
        gauges.budgetRemaining.push({ slo: slo.name, labels: s.labels, value: budgetRemaining });
        for (const ms of windowsOf(slo.tiers)) {
          const burn = burnRate(sum(at - windowBuckets(ms, b) * b, at), slo.objective);
          gauges.burnRate.push({ slo: slo.name, labels: s.labels, window: formatDuration(ms), value: burn ?? NaN });
        }
        for (const t of slo.tiers) {
          gauges.alertFiring.push({ slo: slo.name, labels: s.labels, severity: t.severity, tier: t.name, value: step.firing.get(t.name) ? 1 : 0 });
        }
      }
    }
    const noData = this.noDataWindowMs(slo);
    if (noData !== null) {
      const from = at - noData;
      let total = 0;
      for (const s of series) total += s.counts.sum(from, at).total;
      const silent = total === 0 && input.firstBucket !== null && from >= input.firstBucket;
      const alert = stepNoData(state, silent, noData, { ...ctx, budgetRemaining: errorBudgetRemaining(overall, slo.objective) });
      if (alert) alerts.push(alert);
      if (gauges) {
        gauges.alertFiring.push({ slo: slo.name, labels: {}, severity: 'ticket', tier: NO_DATA_TIER, value: silent ? 1 : 0 });
      }
    }
  }

  /** Shortest long window of the SLO's tiers, in whole buckets; null without tiers. */
  private noDataWindowMs(slo: SloSpec): number | null {
    if (slo.tiers.length === 0) return null;
    const shortest = Math.min(...slo.tiers.map((t) => t.longWindowMs));
    return windowBuckets(shortest, this.bucketMs) * this.bucketMs;
  }
}

function windowsOf(tiers: readonly BurnRateTier[]): number[] {
  return [...new Set(tiers.flatMap((t) => [t.longWindowMs, t.shortWindowMs]))].sort((a, b) => a - b);
}

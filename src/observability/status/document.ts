import { formatDuration } from '../../topology/duration';
import type { SliSpec, SloSpec, Topology } from '../../topology/types';
import type { PipelineCounters, StatusSample } from './history';

// /status.json: the topology's SLOs as configured, the latest sample, and the ring as
// columns (one array per line of a chart), the shape uPlot draws without reshaping.

export interface TierInfo {
  name: string;
  severity: 'page' | 'ticket';
  /** Window labels as tracklane_slo_burn_rate has them (scaled to the SLO's period). */
  long: string;
  short: string;
  threshold: number;
}

export interface SloInfo {
  name: string;
  sli: string;
  /** ratio, latency or `builtin <type>`. */
  sliKind: string;
  objective: number;
  period: string;
  runbook?: string;
  tiers: TierInfo[];
  /** Every burn-rate window of the SLO, shortest first. */
  windows: string[];
}

export type Column = Array<number | null>;

export interface StatusDocument {
  topology: { name: string; version: number; delivery: string; sources: string[] };
  generatedAt: number;
  sampleIntervalMs: number;
  capacity: number;
  slos: SloInfo[];
  latest: StatusSample | null;
  /** Events per second over the last sample interval; null before two samples. */
  rates: { consumed: number | null; enriched: number | null; deadLettered: number | null };
  series: {
    /** Sample times, epoch seconds (uPlot's x axis). */
    at: number[];
    sliRatio: Record<string, Column>;
    budgetRemaining: Record<string, Column>;
    burnRate: Record<string, Record<string, Column>>;
    throughput: { consumed: Column; enriched: Column; deadLettered: Column };
  };
}

const RATE_KEYS = ['consumed', 'enriched', 'deadLettered'] as const;

/** What the page shows next to the SLI name: its measure, and which built-in it is. */
function sliKindOf(sli: SliSpec | undefined): string {
  if (!sli) return 'ratio';
  return sli.kind === 'builtin' ? `builtin ${sli.builtin.type}` : sli.kind;
}

export function sloInfo(slo: SloSpec, topology: Topology): SloInfo {
  const tiers = slo.tiers.map((t) => ({
    name: t.name, severity: t.severity,
    long: formatDuration(t.longWindowMs), short: formatDuration(t.shortWindowMs), threshold: t.threshold,
  }));
  const windowMs = [...new Set(slo.tiers.flatMap((t) => [t.longWindowMs, t.shortWindowMs]))].sort((a, b) => a - b);
  return {
    name: slo.name,
    sli: slo.sli,
    sliKind: sliKindOf(topology.slis.find((s) => s.name === slo.sli)),
    objective: slo.objective,
    period: formatDuration(slo.periodMs),
    runbook: slo.runbook,
    tiers,
    windows: windowMs.map(formatDuration),
  };
}

export function statusDocument(topology: Topology, samples: StatusSample[], o: { sampleIntervalMs: number; capacity: number; now: number }): StatusDocument {
  const slos = topology.slos.map((s) => sloInfo(s, topology));
  const series: StatusDocument['series'] = {
    at: samples.map((s) => Math.round(s.at / 1000)),
    sliRatio: {},
    budgetRemaining: {},
    burnRate: {},
    throughput: { consumed: [], enriched: [], deadLettered: [] },
  };
  for (const slo of slos) {
    series.sliRatio[slo.name] = samples.map((s) => s.slos[slo.name]?.sliRatio ?? null);
    series.budgetRemaining[slo.name] = samples.map((s) => s.slos[slo.name]?.budgetRemaining ?? null);
    series.burnRate[slo.name] = {};
    for (const w of slo.windows) series.burnRate[slo.name][w] = samples.map((s) => s.slos[slo.name]?.burnRates[w] ?? null);
  }
  for (const k of RATE_KEYS) series.throughput[k] = samples.map((s, i) => (i === 0 ? null : rate(samples[i - 1], s, k)));
  const n = samples.length;
  return {
    topology: { name: topology.name, version: topology.version, delivery: topology.delivery, sources: topology.sources.map((s) => s.topic) },
    generatedAt: o.now,
    sampleIntervalMs: o.sampleIntervalMs,
    capacity: o.capacity,
    slos,
    latest: n ? samples[n - 1] : null,
    rates: {
      consumed: n > 1 ? rate(samples[n - 2], samples[n - 1], 'consumed') : null,
      enriched: n > 1 ? rate(samples[n - 2], samples[n - 1], 'enriched') : null,
      deadLettered: n > 1 ? rate(samples[n - 2], samples[n - 1], 'deadLettered') : null,
    },
    series,
  };
}

function rate(a: StatusSample, b: StatusSample, k: keyof Omit<PipelineCounters, 'deadLetteredByReason'>): number | null {
  const dt = (b.at - a.at) / 1000;
  const d = b.pipeline[k] - a.pipeline[k];
  // A negative delta is a counter reset (a new registry): no rate for that step.
  return dt > 0 && d >= 0 ? d / dt : null;
}

import type { Metrics } from '../observability/metrics';

async function sum(metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, filter: (l: Record<string, unknown>) => boolean = () => true): Promise<number> {
  return (await metric.get()).values.filter((v) => filter(v.labels)).reduce((a, v) => a + v.value, 0);
}

export interface Snapshot {
  consumed: number;
  enriched: number;
  duplicates: number;
  /** Every input accounted for: enriched, duplicate, dead letter or consent drop. */
  processed: number;
  deadLetters: Record<string, number>;
  sliRatio: Record<string, number>;
  budget: Record<string, number>;
  firing: string[];
}

/** What the demo shows each second, read from the engine's own Prometheus metrics. */
export async function snapshot(m: Metrics): Promise<Snapshot> {
  const deadLetters: Record<string, number> = {};
  for (const v of (await m.deadLettered.get()).values) deadLetters[String(v.labels.reason)] = v.value;
  const sliRatio: Record<string, number> = {};
  for (const v of (await m.sliRatio.get()).values) {
    const key = String(v.labels.sli);
    sliRatio[key] = Math.min(sliRatio[key] ?? 1, v.value);
  }
  const budget: Record<string, number> = {};
  for (const v of (await m.budgetRemaining.get()).values) budget[String(v.labels.slo)] = v.value;
  const firing = (await m.alertFiring.get()).values.filter((v) => v.value > 0).map((v) => `${v.labels.slo} ${v.labels.tier} (${v.labels.severity})`);
  return {
    consumed: await sum(m.consumed),
    enriched: await sum(m.enriched),
    duplicates: await sum(m.duplicates),
    processed: (await sum(m.enriched)) + (await sum(m.duplicates)) + (await sum(m.deadLettered)) + (await sum(m.consentDropped)),
    deadLetters, sliRatio, budget, firing,
  };
}

const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '   -   ' : `${(x * 100).toFixed(3)}%`);

export function formatSnapshot(s: Snapshot, rate: number): string {
  const dl = Object.entries(s.deadLetters).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  const sli = Object.entries(s.sliRatio).map(([k, v]) => `${k} ${pct(v)}`).join('  ') || 'no window closed yet';
  const budget = Object.entries(s.budget).map(([k, v]) => `${k} ${pct(v)}`).join('  ') || '-';
  return [
    `events/s ${rate.toFixed(0).padStart(6)} | consumed ${s.consumed} | enriched ${s.enriched} | duplicates ${s.duplicates}`,
    `dead letters: ${dl}`,
    `SLI (last window): ${sli}`,
    `error budget left: ${budget}`,
    `alerts firing: ${s.firing.length ? s.firing.join(', ') : 'none'}`,
  ].join('\n');
}

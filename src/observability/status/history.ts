import type { Metrics } from '../metrics';
import type { Topology } from '../../topology/types';

/** What the status page knows about one SLO at one moment; null until the engine has set the gauge. */
export interface SloReading {
  /** good/total of the SLI's last closed window; with groupBy, the worst label set. */
  sliRatio: number | null;
  budgetRemaining: number | null;
  /** Burn rate by window label ("1h", "5m", ...), as tracklane_slo_burn_rate has them. */
  burnRates: Record<string, number | null>;
  /** 1 while the tier fires, by tier name (including "no-data"). */
  firing: Record<string, 0 | 1>;
}

export interface PipelineCounters {
  consumed: number;
  enriched: number;
  deadLettered: number;
  duplicates: number;
  consentDropped: number;
  deadLetteredByReason: Record<string, number>;
}

export interface StatusSample {
  /** Wall-clock time of the sample, epoch ms. */
  at: number;
  slos: Record<string, SloReading>;
  pipeline: PipelineCounters;
}

export interface StatusHistoryOptions {
  /** Samples kept; the oldest goes first. 720 x 5 s is one hour. */
  capacity?: number;
  intervalMs?: number;
  now?: () => number;
}

export const DEFAULT_SAMPLE_INTERVAL_MS = 5_000;
export const DEFAULT_CAPACITY = 720;

type GaugeValues = Awaited<ReturnType<Metrics['sliRatio']['get']>>['values'];

/**
 * A bounded ring of samples of the engine's own prom-client metrics, taken on a timer.
 * It reads the registry rather than the SLO evaluator so the page shows exactly what
 * Prometheus scrapes.
 */
export class StatusHistory {
  readonly capacity: number;
  readonly intervalMs: number;
  private readonly ring: StatusSample[] = [];
  private next = 0;
  private timer?: NodeJS.Timeout;
  private sampling?: Promise<void>;
  private readonly now: () => number;

  constructor(private readonly topology: Topology, private readonly metrics: Metrics, o: StatusHistoryOptions = {}) {
    this.capacity = Math.max(1, o.capacity ?? DEFAULT_CAPACITY);
    this.intervalMs = o.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
    this.now = o.now ?? Date.now;
  }

  /** Samples now and then every interval. The timer never keeps the process alive. */
  start(): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Oldest first. */
  samples(): StatusSample[] {
    if (this.ring.length < this.capacity) return this.ring.slice();
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  latest(): StatusSample | undefined {
    if (this.ring.length === 0) return undefined;
    return this.ring[(this.next - 1 + this.ring.length) % this.ring.length];
  }

  /** Takes one sample and appends it to the ring. */
  async sample(): Promise<StatusSample> {
    const s = await readSample(this.topology, this.metrics, this.now());
    if (this.ring.length < this.capacity) this.ring.push(s);
    else this.ring[this.next] = s;
    this.next = (this.next + 1) % this.capacity;
    return s;
  }

  private async tick(): Promise<void> {
    if (this.sampling) return; // a slow registry read never stacks up samples
    this.sampling = this.sample().then(
      () => undefined,
      () => undefined, // a failed read leaves a gap in the charts, nothing more
    );
    await this.sampling;
    this.sampling = undefined;
  }
}

async function readSample(topology: Topology, m: Metrics, at: number): Promise<StatusSample> {
  const [ratio, budget, burn, firing, consumed, enriched, deadLettered, duplicates, consentDropped] = await Promise.all([
    m.sliRatio.get(), m.budgetRemaining.get(), m.burnRate.get(), m.alertFiring.get(),
    m.consumed.get(), m.enriched.get(), m.deadLettered.get(), m.duplicates.get(), m.consentDropped.get(),
  ]);
  const slos: Record<string, SloReading> = {};
  for (const slo of topology.slos) {
    const reading: SloReading = {
      sliRatio: worst(ratio.values, (l) => l.sli === slo.sli, Math.min),
      budgetRemaining: worst(budget.values, (l) => l.slo === slo.name, Math.min),
      burnRates: {},
      firing: {},
    };
    for (const v of burn.values) {
      if (v.labels.slo === slo.name && v.labels.window !== undefined) reading.burnRates[String(v.labels.window)] = finite(v.value);
    }
    for (const v of firing.values) {
      if (v.labels.slo === slo.name && v.labels.tier !== undefined) reading.firing[String(v.labels.tier)] = v.value >= 1 ? 1 : 0;
    }
    slos[slo.name] = reading;
  }
  const byReason: Record<string, number> = {};
  for (const v of deadLettered.values) byReason[String(v.labels.reason ?? '')] = v.value;
  return {
    at,
    slos,
    pipeline: {
      consumed: total(consumed.values),
      enriched: total(enriched.values),
      deadLettered: total(deadLettered.values),
      duplicates: total(duplicates.values),
      consentDropped: total(consentDropped.values),
      deadLetteredByReason: byReason,
    },
  };
}

/** The worst finite value among the series that match, or null when none has one. */
function worst(values: GaugeValues, match: (labels: GaugeValues[number]['labels']) => boolean, pick: (a: number, b: number) => number): number | null {
  let out: number | null = null;
  for (const v of values) {
    if (!match(v.labels) || !Number.isFinite(v.value)) continue;
    out = out === null ? v.value : pick(out, v.value);
  }
  return out;
}

function total(values: Array<{ value: number }>): number {
  return values.reduce((sum, v) => sum + v.value, 0);
}

function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

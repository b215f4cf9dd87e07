import { ExpressionErrors } from '../expr/errors';
import { logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { PipelineEvent } from '../pipeline/event';
import type { PartitionCommit } from '../sink/delivery';
import type { OutputMessage } from '../sink/output';
import { writeAvroFrame } from '../decode/wire';
import type { BatchObserver } from '../sink/output';
import type { Keys } from '../state/keys';
import type { RedisClient } from '../state/redis';
import { expressionRefs } from '../topology/expressions';
import type { CorrelationStep, Topology } from '../topology/types';
import { SliClassifier } from '../window/classify';
import { labelsKey, type Labels } from '../window/labels';
import { SliWindowStore, type BatchOwner, type CloseStatus, type IdleClose, type ObservationOutcome } from '../window/store';
import type { SloGauges } from './evaluator';
import { alertSchema, alertType, sliWindowKey, sliWindowSchema, sliWindowType, type Alert, type SliWindow } from '../window/records';
import { SloStore, type SloEvaluation } from './store';

// The SLI/SLO part of a batch, as one BatchObserver for the consume loop. Per input batch
// (one partition's chunk), after enrichment and before delivery:
//   1. classify the batch's events into SLI observations (CEL);
//   2. SliWindowStore.addBatch: count them, fenced by offset (one round trip);
//   3. SliWindowStore.closeBuckets: close windows the shared watermark passed, with this batch
//      as their owner (plus what its previous, uncommitted attempt carried);
//   4. when windows closed since the last call: SloStore.evaluate at each closed boundary;
//   5. return SliWindow records (metrics topic) and Alert records (alerts topic), which the
//      loop delivers in the batch's transaction together with its offset commit.
// A batch that fails after step 3 is retried or replayed from the same offset: the ledger
// hands the same windows and alerts to it again, so nothing is lost or published twice by a
// committed batch.

/**
 * The emit-ledger owner of the idle close's output. '~' cannot appear in a Kafka topic name,
 * so it never meets a real partition's entry. Its "offsets" are the idle closer's sequence
 * numbers (see engine/idle.ts).
 */
export const IDLE_OWNER_TOPIC = '~idle';

export interface SloSchemaIds {
  sliWindow: number;
  /** Needed when outputs.alerts.format is avro. */
  alert?: number;
}

export interface SloObserverOptions {
  topology: Topology;
  redis: RedisClient;
  keys: Keys;
  schemaIds: SloSchemaIds;
  metrics?: Metrics;
  now?: () => number;
}

/** Registers tracklane.SliWindow and tracklane.Alert under `<topic>-value` (idempotent). */
export async function registerSloSchemas(
  registry: { register(subject: string, schema: string): Promise<number> },
  topology: Topology,
): Promise<SloSchemaIds> {
  const { metrics, alerts } = sloOutputs(topology);
  const sliWindow = await registry.register(`${metrics.topic}-value`, JSON.stringify(sliWindowSchema));
  const alert = alerts.format === 'avro' ? await registry.register(`${alerts.topic}-value`, JSON.stringify(alertSchema)) : undefined;
  return { sliWindow, alert };
}

/** The loader requires both outputs whenever there are SLIs or SLOs. */
function sloOutputs(topology: Topology): Required<Pick<Topology['outputs'], 'metrics' | 'alerts'>> {
  const { metrics, alerts } = topology.outputs;
  if (!metrics || !alerts) throw new Error(`topology ${topology.name} has SLIs but no outputs.metrics / outputs.alerts`);
  return { metrics, alerts };
}

export class SloObserver implements BatchObserver {
  private readonly classifier: SliClassifier;
  readonly windows: SliWindowStore;
  readonly slos: SloStore;
  private readonly now: () => number;
  private lastClosed: number | null = null;

  constructor(private readonly o: SloObserverOptions) {
    const expressionErrors = new ExpressionErrors({ counter: o.metrics?.expressionErrors, log: logger.child({ topology: o.topology.name }) });
    expressionErrors.declare(expressionRefs(o.topology).map((r) => r.name));
    // Built-in SLIs read the correlation step's header and its verdict (docs/tracking-slis.md).
    const correlation = o.topology.enrich.find((s): s is CorrelationStep => s.kind === 'correlation');
    this.classifier = new SliClassifier(o.topology.slis, (expression, err) => expressionErrors.report(expression, err), { correlation });
    this.windows = new SliWindowStore(o.redis, o.keys, o.topology);
    this.slos = new SloStore(o.redis, o.keys, o.topology);
    this.now = o.now ?? Date.now;
  }

  /** Wire to the consumer's GROUP_JOIN: restarts the idle clock of the partitions now owned. */
  async onAssigned(assignment: Record<string, number[]>): Promise<void> {
    await this.windows.assignPartitions(Object.entries(assignment).map(([topic, partitions]) => ({ topic, partitions })), this.now());
  }

  async observe(events: PipelineEvent[], commit: PartitionCommit): Promise<OutputMessage[]> {
    if (events.length === 0 || this.o.topology.slis.length === 0) return [];
    const nowMs = this.now();
    const lastOffset = String(BigInt(commit.nextOffset) - 1n);
    let maxEventTime: number | undefined;
    for (const ev of events) {
      if (ev.eventTime !== undefined && !ev.failure && (maxEventTime === undefined || ev.eventTime > maxEventTime)) maxEventTime = ev.eventTime;
    }
    const observations = this.classifier.classify(events);
    const added = await this.windows.addBatch([{ topic: commit.topic, partition: commit.partition, lastOffset, maxEventTime }], observations, nowMs);
    this.countObservations(observations.map((ob, i) => ({ sli: ob.sli, good: ob.good, outcome: added.outcomes[i] })));

    const owner: BatchOwner = { topic: commit.topic, partition: commit.partition, firstOffset: events[0].offset, lastOffset };
    const closed = await this.windows.closeBuckets({ owner, nowMs });
    const alerts: Alert[] = [...closed.replayedAlerts];
    if (closed.closedThrough !== null && closed.closedThrough !== this.lastClosed) {
      const evaluation = await this.slos.evaluate({ owner, nowMs });
      this.lastClosed = closed.closedThrough;
      alerts.push(...evaluation.alerts);
      this.exportGauges(evaluation);
    }
    for (const w of closed.windows) {
      if (w.ratio !== null) this.o.metrics?.sliRatio.set({ sli: w.sli, ...w.labels }, w.ratio);
    }
    return [...closed.windows.map((w) => this.windowMessage(w)), ...alerts.map((a) => this.alertMessage(a))];
  }

  /**
   * The wall-clock close (issue 19), called by the engine's idle timer: when every partition
   * is idle and this instance holds the idle lease, closes the buckets the wall clock passed
   * (empty windows for every known series), evaluates the SLOs at the new boundaries and
   * returns the records. They stay in the emit ledger under IDLE_OWNER_TOPIC with `seq` until
   * a call with a higher `first` says they were delivered; a call with `first` at or below
   * the entry's seq hands them out again.
   */
  async closeIdle(o: { first: string; seq: string; idle: IdleClose; nowMs?: number }): Promise<{ status: CloseStatus; messages: OutputMessage[] }> {
    if (this.o.topology.slis.length === 0) return { status: 'active', messages: [] };
    const nowMs = o.nowMs ?? this.now();
    const owner: BatchOwner = { topic: IDLE_OWNER_TOPIC, partition: 0, firstOffset: o.first, lastOffset: o.seq };
    const closed = await this.windows.closeBuckets({ owner, nowMs, idle: o.idle });
    if (closed.status === 'busy') return { status: 'busy', messages: [] };
    const alerts: Alert[] = [...closed.replayedAlerts];
    if (closed.status === 'ok') {
      const evaluation = await this.slos.evaluate({ owner, nowMs });
      alerts.push(...evaluation.alerts);
      this.exportGauges(evaluation);
    }
    for (const w of closed.windows) {
      if (w.ratio !== null) this.o.metrics?.sliRatio.set({ sli: w.sli, ...w.labels }, w.ratio);
    }
    return { status: closed.status, messages: [...closed.windows.map((w) => this.windowMessage(w)), ...alerts.map((a) => this.alertMessage(a))] };
  }

  private windowMessage(w: SliWindow): OutputMessage {
    return {
      topic: sloOutputs(this.o.topology).metrics.topic,
      key: sliWindowKey(w, labelsKey(w.labels)),
      value: writeAvroFrame(this.o.schemaIds.sliWindow, sliWindowType, w),
    };
  }

  private alertMessage(a: Alert): OutputMessage {
    const { alerts } = sloOutputs(this.o.topology);
    if (alerts.format === 'json') return { topic: alerts.topic, key: a.dedup_key, value: Buffer.from(JSON.stringify(a)) };
    if (this.o.schemaIds.alert === undefined) throw new Error('alerts are Avro but no schema id for tracklane.Alert was given');
    return { topic: alerts.topic, key: a.dedup_key, value: writeAvroFrame(this.o.schemaIds.alert, alertType, a) };
  }

  /**
   * Counters move only for observations counted now (not fenced replays, not late ones), once
   * per (SLI, label set) and batch: prom-client hashes the labels on every inc.
   */
  private countObservations(rows: Array<{ sli: string; good: boolean; outcome: ObservationOutcome }>): void {
    const m = this.o.metrics;
    if (!m) return;
    // Outcomes of one series share their labels object, so it can key the tally.
    const tally = new Map<Labels, Map<string, { n: number; good: number }>>();
    for (const r of rows) {
      if (!r.outcome.counted || r.outcome.late) continue;
      let bySli = tally.get(r.outcome.labels);
      if (!bySli) tally.set(r.outcome.labels, (bySli = new Map()));
      const t = bySli.get(r.sli) ?? { n: 0, good: 0 };
      t.n++;
      if (r.good) t.good++;
      bySli.set(r.sli, t);
    }
    for (const [labels, bySli] of tally) {
      for (const [sli, t] of bySli) {
        // Good moves by 0 too: a label set whose events all fail must still have a good
        // series, or the rules' `events - good` is empty and a full outage never pages.
        m.sliEvents.inc({ sli, ...labels }, t.n);
        m.sliGood.inc({ sli, ...labels }, t.good);
      }
    }
  }

  /**
   * The tracklane_slo_* gauges belong to the instance that committed the latest evaluated
   * boundary (any instance may evaluate; one commit wins per boundary, store.ts). Every other
   * instance removes its series, so max/sum across pods never shows a value from an
   * evaluation another instance has since moved past.
   */
  private exportGauges(evaluation: SloEvaluation): void {
    if (evaluation.owner && evaluation.gauges) this.setGauges(evaluation.gauges);
    else this.dropGauges();
  }

  /**
   * Called on every idle tick of every instance (engine/idle.ts): an instance that stopped
   * evaluating (it lost its partitions, another one closes the windows) learns here that its
   * gauges are stale and removes them. One HGET.
   */
  async checkGaugeOwnership(): Promise<void> {
    if (!this.o.metrics || !this.slos.exportsGauges) return;
    if (!(await this.slos.ownsLatestEvaluation())) this.dropGauges();
  }

  private dropGauges(): void {
    const m = this.o.metrics;
    if (!m) return;
    m.budgetRemaining.reset();
    m.burnRate.reset();
    m.alertFiring.reset();
  }

  /**
   * The tracklane_slo_* gauges have no groupBy labels (DESIGN.md section 7), so an SLO over
   * several label sets reports its worst one: lowest budget, highest burn rate, any firing.
   */
  private setGauges(g: SloGauges): void {
    const m = this.o.metrics;
    if (!m) return;
    this.dropGauges();
    const budget = new Map<string, number>();
    for (const s of g.budgetRemaining) budget.set(s.slo, Math.min(budget.get(s.slo) ?? Infinity, s.value));
    for (const [slo, value] of budget) m.budgetRemaining.set({ slo }, value);
    const burn = new Map<string, { slo: string; window: string; value: number }>();
    for (const s of g.burnRate) {
      const cur = burn.get(`${s.slo}\n${s.window}`);
      if (!cur || Number.isNaN(cur.value) || s.value > cur.value) burn.set(`${s.slo}\n${s.window}`, { slo: s.slo, window: s.window, value: s.value });
    }
    for (const { slo, window, value } of burn.values()) m.burnRate.set({ slo, window }, value);
    const firing = new Map<string, { slo: string; severity: string; tier: string; value: number }>();
    for (const s of g.alertFiring) {
      const key = `${s.slo}\n${s.severity}\n${s.tier}`;
      firing.set(key, { slo: s.slo, severity: s.severity, tier: s.tier, value: Math.max(firing.get(key)?.value ?? 0, s.value) });
    }
    for (const { value, ...labels } of firing.values()) m.alertFiring.set(labels, value);
  }
}

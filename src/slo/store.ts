import type { Keys } from '../state/keys';
import { loadScripts, type RedisClient, type Scripts } from '../state/redis';
import { parseLabelsKey } from '../window/labels';
import { HISTORY_CHUNK_BUCKETS, execPipeline as exec, partitionId, retentionMs, type BatchOwner, type SliTopology } from '../window/store';
import type { SloAlertState } from './alert-state';
import { BucketCounts } from './counts';
import { SloEvaluator, type SeriesCounts, type SloGauges } from './evaluator';
import type { Alert } from '../window/records';

// Runs the pure SloEvaluator against the shared state in Redis:
// 1. one pipelined read: closed / evaluated / first boundaries, the label sets with history
//    per SLI, the alert state per SLO;
// 2. one pipelined read of the packed history chunks the windows need (chunks whose buckets
//    are all closed never change and are cached in memory);
// 3. one script (alertCommit-2.lua) that compare-and-sets the evaluated boundary, writes the
//    alert state and puts the transitions in the owner batch's emit ledger.
// Any instance may evaluate; the compare-and-set makes exactly one commit per boundary, and
// the losers drop their alerts (they computed the same ones). `owner` says whether this
// instance committed the latest boundary: only then does it export the tracklane_slo_*
// gauges (docs/metrics.md).

export interface SloEvaluation {
  /** Transitions to publish (empty when another instance committed these boundaries first). */
  alerts: Alert[];
  /** At the last boundary this instance evaluated (kept from the previous call when nothing was new). */
  gauges: SloGauges | null;
  evaluatedThrough: number | null;
  /** True when this instance committed the latest evaluated boundary: its gauges are the current ones. */
  owner: boolean;
}

export interface SloStoreOptions {
  /** Boundaries per evaluation step (each step commits). Default 1440. */
  maxBoundariesPerStep?: number;
  retentionMs?: number;
}

interface Snapshot {
  closed: number | null;
  evaluated: number | null;
  first: number | null;
  members: Map<string, string[]>;
  state: Map<string, Record<string, string>>;
}

export class SloStore {
  private readonly scripts: Scripts;
  private readonly evaluator: SloEvaluator;
  private readonly slis: string[];
  private readonly bucketMs: number;
  private readonly maxBoundaries: number;
  private readonly ttl: number;
  private readonly chunks = new Map<string, { chunk: number; data: Buffer }>();
  private gauges: SloGauges | null = null;
  /** Highest boundary this instance's own commit covered; null until it commits one. */
  private committedThrough: number | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly topology: SliTopology,
    options: SloStoreOptions = {},
  ) {
    this.scripts = loadScripts(redis);
    this.evaluator = new SloEvaluator(topology);
    this.slis = [...new Set(topology.slos.map((s) => s.sli))];
    this.bucketMs = topology.windows.bucketMs;
    this.maxBoundaries = options.maxBoundariesPerStep ?? 1440;
    this.ttl = options.retentionMs ?? retentionMs(topology);
  }

  /**
   * Evaluates every closed boundary not evaluated yet. `owner`: the input batch that will
   * publish the alerts (they stay in its emit ledger until it is committed).
   */
  async evaluate(options: { owner?: BatchOwner; nowMs?: number } = {}): Promise<SloEvaluation> {
    const nowMs = options.nowMs ?? Date.now();
    const alerts: Alert[] = [];
    if (this.topology.slos.length === 0) return { alerts, gauges: null, evaluatedThrough: null, owner: false };
    for (;;) {
      const snap = await this.snapshot();
      const after = snap.evaluated ?? snap.first;
      if (snap.closed === null || after === null || after >= snap.closed) {
        return { alerts, gauges: this.gauges, evaluatedThrough: snap.evaluated, owner: this.owns(snap.evaluated) };
      }
      const through = Math.min(snap.closed, after + this.maxBoundaries * this.bucketMs);
      const series = await this.history(snap, after + this.bucketMs, through);
      const prev = new Map<string, SloAlertState>();
      for (const [slo, fields] of snap.state) {
        prev.set(slo, Object.fromEntries(Object.entries(fields).map(([f, v]) => [f, JSON.parse(v) as { startsAt: number }])));
      }
      const result = this.evaluator.evaluate({ after, through, firstBucket: snap.first, series, state: prev, emittedAt: nowMs });
      this.gauges = result.gauges ?? this.gauges;
      const changes: Array<[string, string, string | false]> = [];
      for (const slo of this.topology.slos) {
        const key = this.keys.alertState(slo.name);
        const before = snap.state.get(slo.name) ?? {};
        const next = result.state.get(slo.name) ?? {};
        for (const [field, v] of Object.entries(next)) {
          const json = JSON.stringify(v);
          if (before[field] !== json) changes.push([key, field, json]);
        }
        for (const field of Object.keys(before)) if (!(field in next)) changes.push([key, field, false]);
      }
      const payload = JSON.stringify({
        expected: snap.evaluated === null ? false : String(snap.evaluated),
        next: String(through),
        changes,
        alerts: result.alerts.map((a) => JSON.stringify(a)),
        owner: options.owner ? partitionId(options.owner.topic, options.owner.partition) : '',
        last: options.owner?.lastOffset ?? '0',
        ttl: this.ttl,
      });
      const committed = await this.scripts.run('alertCommit', [this.keys.windowMeta(), this.keys.sliEmitLedger()], [payload], 'commit SLO evaluation');
      if (committed !== 1) {
        // Another instance evaluated these boundaries first and published the same alerts.
        return { alerts, gauges: this.gauges, evaluatedThrough: snap.evaluated, owner: false };
      }
      this.committedThrough = through;
      alerts.push(...result.alerts);
      if (through >= snap.closed) return { alerts, gauges: this.gauges, evaluatedThrough: through, owner: true };
    }
  }

  /** Whether the topology has SLOs (and so tracklane_slo_* gauges). */
  get exportsGauges(): boolean {
    return this.topology.slos.length > 0;
  }

  /** Whether the latest evaluated boundary in Redis is one this instance committed. */
  async ownsLatestEvaluation(): Promise<boolean> {
    const evaluated = await this.redis.hget(this.keys.windowMeta(), 'evaluated');
    return this.owns(evaluated === null || evaluated === '' ? null : Number(evaluated));
  }

  private owns(evaluated: number | null): boolean {
    return evaluated !== null && evaluated === this.committedThrough;
  }

  private async snapshot(): Promise<Snapshot> {
    const p = this.redis.pipeline();
    p.hmget(this.keys.windowMeta(), 'closed', 'evaluated', 'first');
    for (const sli of this.slis) p.smembers(this.keys.sliHistorySeries(sli));
    for (const slo of this.topology.slos) p.hgetall(this.keys.alertState(slo.name));
    const replies = await exec(p, 'read SLO state');
    const [closed, evaluated, first] = replies[0] as Array<string | null>;
    const num = (x: string | null) => (x === null || x === '' ? null : Number(x));
    const members = new Map<string, string[]>();
    this.slis.forEach((sli, i) => members.set(sli, replies[1 + i] as string[]));
    const state = new Map<string, Record<string, string>>();
    this.topology.slos.forEach((slo, i) => state.set(slo.name, replies[1 + this.slis.length + i] as Record<string, string>));
    return { closed: num(closed), evaluated: num(evaluated), first: num(first), members, state };
  }

  /** Per SLI and label set: closed (good, total) per bucket over what boundaries from..through read. */
  private async history(snap: Snapshot, from: number, through: number): Promise<Map<string, SeriesCounts[]>> {
    const b = this.bucketMs;
    const chunkMs = HISTORY_CHUNK_BUCKETS * b;
    const plan: Array<{ sli: string; labelsKey: string; start: number; end: number }> = [];
    const fetch: Array<{ key: string; chunk: number }> = [];
    const needed = new Set<string>();
    for (const sli of this.slis) {
      const start = from - this.evaluator.historyMs(sli);
      for (const labelsKey of snap.members.get(sli) ?? []) {
        plan.push({ sli, labelsKey, start, end: through });
        for (let c = Math.floor(start / chunkMs); c * chunkMs < through; c++) {
          const key = this.keys.sliHistory(sli, labelsKey, c);
          needed.add(key);
          if (!this.chunks.has(key)) fetch.push({ key, chunk: c });
        }
      }
    }
    for (const key of this.chunks.keys()) if (!needed.has(key)) this.chunks.delete(key);
    if (fetch.length > 0) {
      const p = this.redis.pipeline();
      for (const f of fetch) p.getBuffer(f.key);
      const replies = await exec(p, 'read SLI history');
      fetch.forEach((f, i) => this.chunks.set(f.key, { chunk: f.chunk, data: (replies[i] as Buffer | null) ?? Buffer.alloc(0) }));
    }
    const out = new Map<string, SeriesCounts[]>();
    for (const s of plan) {
      const n = Math.max(0, Math.round((s.end - s.start) / b));
      const good = new Float64Array(n);
      const total = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const idx = s.start / b + i;
        const c = Math.floor(idx / HISTORY_CHUNK_BUCKETS);
        const data = this.chunks.get(this.keys.sliHistory(s.sli, s.labelsKey, c))?.data;
        const at = (idx - c * HISTORY_CHUNK_BUCKETS) * 8;
        if (data && at + 8 <= data.length) {
          good[i] = data.readUInt32BE(at);
          total[i] = data.readUInt32BE(at + 4);
        }
      }
      const list = out.get(s.sli) ?? [];
      list.push({ labels: parseLabelsKey(s.labelsKey), labelsKey: s.labelsKey, counts: BucketCounts.fromBuckets(s.start, b, good, total) });
      out.set(s.sli, list);
    }
    // A chunk whose buckets are all closed never changes again and stays cached; the others
    // are read again next time.
    for (const f of fetch) if ((f.chunk + 1) * chunkMs > (snap.closed ?? -Infinity)) this.chunks.delete(f.key);
    return out;
  }
}

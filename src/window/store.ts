import type { Keys } from '../state/keys';
import { sliMeasure } from '../topology/builtin-slis';
import { loadScripts, toRedisError, type RedisClient, type Scripts } from '../state/redis';
import type { Alert, SliWindow } from './records';
import type { SliSpec, SloSpec, WindowsSpec } from '../topology/types';
import { bucketStart, type SliObservation } from './bucket';
import { labelsKey, parseLabelsKey, type Labels } from './labels';
import { LatencySketch } from './latency';
import { otherLabels } from './series-cap';

// SLI windows in Redis, shared by every instance of a topology (scripts sliAdd-2.lua and
// sliClose-3.lua). Counts are exact and counted once per input offset (a fence per input
// partition); a window is closed once, by whichever batch first sees the watermark past its
// end, and is carried by that batch's output until the batch is committed (the emit ledger),
// so a crash or rebalance between claim and commit re-emits it instead of losing it.

/** Buckets per packed history string: a day of 1m buckets, 11.5 KB. */
export const HISTORY_CHUNK_BUCKETS = 1440;
const DAY_MS = 86_400_000;
const DEFAULT_PERIOD_MS = 30 * DAY_MS;

export interface SliTopology {
  name: string;
  windows: WindowsSpec;
  slis: readonly SliSpec[];
  slos: readonly SloSpec[];
}

/** What a batch read from one input partition: its last offset and highest event time. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  lastOffset: string;
  /** Highest event time in the batch (all events with one, not only SLI observations). */
  maxEventTime?: number;
}

/** The input batch whose output will carry what closeBuckets returns. */
export interface BatchOwner {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
}

export interface AddBatchResult {
  /** Observations counted now (late ones included). */
  counted: number;
  /** Observations at or below their partition's fence: counted before (a replay). */
  skipped: number;
  /** Counted as late on the series' next window instead of in good/total. */
  late: number;
  /** Per observation, in input order: how it was counted, and under which labels. */
  outcomes: ObservationOutcome[];
}

export type ObservationOutcome =
  | { counted: false }
  | { counted: true; late: boolean; labels: Labels };

/** The wall-clock close of an idle topology (sliClose-3.lua, idleWatermark). */
export interface IdleClose {
  /** Who asks: only the holder of the idle lease closes. */
  holder: string;
  leaseMs: number;
  /** The sources' largest maxFutureSkew: how far behind our clock a producer's may be. */
  maxFutureSkewMs: number;
}

/** ok: closed as asked; busy: another instance holds the idle lease; active: a partition is active (idle close only). */
export type CloseStatus = 'ok' | 'busy' | 'active';

export interface ClosedBuckets {
  status: CloseStatus;
  /** The watermark the close used (null before any event time is known). */
  watermark: number | null;
  /** Every bucket ending at or before this has been claimed. */
  closedThrough: number | null;
  windows: SliWindow[];
  /** Alerts the owner's previous, uncommitted batch carried: publish them again. */
  replayedAlerts: Alert[];
}

export interface SliWindowStoreOptions {
  /** TTL of window, fence, series and meta keys. Default: longest SLO period + 1 day. */
  retentionMs?: number;
  /**
   * Most windows claimed per close, in whole buckets; the rest wait for the next batch, and
   * closedThrough stops before them (the evaluator reads only claimed history). Default 5000.
   */
  maxClaim?: number;
}

/** Longest SLO period (30d without SLOs) + 1 day. */
export function retentionMs(topology: Pick<SliTopology, 'slos'>): number {
  return Math.max(DEFAULT_PERIOD_MS, ...topology.slos.map((s) => s.periodMs)) + DAY_MS;
}

export function partitionId(topic: string, partition: number): string {
  return `${topic}|${partition}`;
}

export class SliWindowStore {
  private readonly scripts: Scripts;
  private readonly slis = new Map<string, SliSpec>();
  private readonly evaluated = new Set<string>();
  private readonly ttl: number;
  private readonly historyTtl: number;
  private readonly maxClaim: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly topology: SliTopology,
    options: SliWindowStoreOptions = {},
  ) {
    this.scripts = loadScripts(redis);
    for (const s of topology.slis) this.slis.set(s.name, s);
    for (const s of topology.slos) this.evaluated.add(s.sli);
    this.ttl = options.retentionMs ?? retentionMs(topology);
    this.historyTtl = this.ttl + HISTORY_CHUNK_BUCKETS * topology.windows.bucketMs;
    this.maxClaim = options.maxClaim ?? 5000;
  }

  /** Takes or renews the idle-close lease (lease-1.lua); false while another holder has it. */
  async takeIdleLease(holder: string, leaseMs: number): Promise<boolean> {
    return (await this.scripts.run('lease', [this.keys.sliIdleLease()], [holder, String(Math.ceil(leaseMs))], 'take the idle-close lease')) === 1;
  }

  /**
   * Call on (re)assignment: restarts the partitions' idle clock, so a partition with a backlog
   * holds the shared watermark back until its first batch arrives (or idleTimeout passes).
   * Revocation needs no call: the next owner takes the partition's progress over.
   */
  async assignPartitions(assigned: ReadonlyArray<{ topic: string; partitions: readonly number[] }>, nowMs = Date.now()): Promise<void> {
    const fields: string[] = [];
    for (const a of assigned) for (const p of a.partitions) fields.push(`seen|${partitionId(a.topic, p)}`, String(nowMs));
    if (fields.length === 0) return;
    await execPipeline(this.redis.pipeline().hset(this.keys.windowMeta(), ...fields).pexpire(this.keys.windowMeta(), this.ttl), 'publish partition assignment');
  }

  /**
   * Counts a batch in one round trip. `partitions` lists every input partition in the batch
   * (even when no event produced an observation) so fences and event-time progress move.
   * Observations must come from offsets <= their partition's lastOffset.
   */
  async addBatch(partitions: readonly PartitionBatch[], observations: readonly SliObservation[], nowMs = Date.now()): Promise<AddBatchResult> {
    const bucketMs = this.topology.windows.bucketMs;
    const partIndex = new Map<string, number>();
    const parts: Array<[string, string, number, number | false]> = [];
    for (const p of partitions) {
      const id = partitionId(p.topic, p.partition);
      if (partIndex.has(id)) throw new Error(`partition ${id} listed twice in one batch`);
      parts.push([this.keys.sliFence(p.topic, p.partition), id, Number(p.lastOffset), p.maxEventTime ?? false]);
      partIndex.set(id, parts.length);
    }
    const seriesIndex = new Map<string, number>();
    const series: Array<[string, number, string, string, string, string, string, string, string, string]> = [];
    // Per observation [partIdx, offset, seriesIdx, bucketStart, good, latencyBin|'', latencyValue].
    const obs: Array<[number, number, number, number, number, string, number]> = [];
    // Observations summed per (partition, series, bucket): a batch of 500 events sends a few
    // dozen entries instead of one per observation (see sliAdd-2.lua). A replay whose fence
    // cuts an entry is sent again with one entry per observation.
    const aggIndex = new Map<string, AggEntry>();
    const agg: AggEntry[] = [];
    for (const o of observations) {
      const sli = this.slis.get(o.sli);
      if (!sli) throw new Error(`observation for unknown SLI ${o.sli}`);
      const pi = partIndex.get(partitionId(o.topic, o.partition));
      if (pi === undefined) throw new Error(`observation from ${o.topic}|${o.partition}, which is not in the batch's partitions`);
      const lk = labelsKey(o.labels);
      let si = seriesIndex.get(`${o.sli}\n${lk}`);
      if (si === undefined) {
        const olk = labelsKey(otherLabels(sli.groupBy));
        const history = this.evaluated.has(o.sli);
        series.push([
          sli.groupBy.length > 0 ? this.keys.sliSeries(o.sli) : '',
          sli.maxSeries,
          o.sli,
          history ? this.keys.sliHistorySeries(o.sli) : '',
          lk,
          this.keys.sliWindowPrefix(o.sli, lk),
          history ? this.keys.sliHistoryPrefix(o.sli, lk) : '',
          olk,
          this.keys.sliWindowPrefix(o.sli, olk),
          history ? this.keys.sliHistoryPrefix(o.sli, olk) : '',
        ]);
        si = series.length;
        seriesIndex.set(`${o.sli}\n${lk}`, si);
      }
      const offset = Number(o.offset);
      const start = bucketStart(o.eventTime, bucketMs);
      const good = o.good ? 1 : 0;
      const bin = o.latencyValue === undefined ? '' : LatencySketch.binOf(Math.max(0, o.latencyValue));
      const value = Math.max(0, o.latencyValue ?? 0);
      obs.push([pi, offset, si, start, good, bin, value]);
      const k = `${pi}|${si}|${start}`;
      const a = aggIndex.get(k);
      if (!a) {
        const e = aggEntry(pi, offset, si, start, good, bin, value);
        aggIndex.set(k, e);
        agg.push(e);
        continue;
      }
      if (offset < a[1]) a[1] = offset;
      if (offset > a[2]) a[2] = offset;
      a[5]++;
      a[6] += good;
      if (bin !== '') {
        a[7][bin] = (a[7][bin] ?? 0) + 1;
        if (a[8] === false || value > a[8]) a[8] = value;
      }
    }
    const run = async (entries: AggEntry[]) =>
      (await this.scripts.run('sliAdd', [this.keys.windowMeta(), this.keys.sliOpenWindows()], [JSON.stringify({ now: nowMs, bucketMs, ttl: this.ttl, known: this.keys.sliKnownSeries(), parts, series, agg: entries })], 'count SLI batch')) as
        [number, number, number, string, string[], number[]] | [-1];
    let reply = await run(agg);
    if (reply[0] === -1) reply = await run(obs.map(([pi, offset, si, start, good, bin, value]) => aggEntry(pi, offset, si, start, good, bin, value)));
    if (reply.length === 1) throw new Error('sliAdd asked for single observations twice');
    const [counted, skipped, late, closedText, fences, flags] = reply;
    const closed = closedText === '' ? null : Number(closedText);
    const fenceOf = fences.map(Number);
    // One label object per series, shared by its observations (read-only for callers).
    const seriesLabels = series.map((s, i) => parseLabelsKey(flags[i] === 0 ? s[7] : s[4]));
    const outcomes = obs.map(([pi, offset, si, start]): ObservationOutcome => {
      if (offset <= fenceOf[pi - 1]) return { counted: false };
      return { counted: true, late: closed !== null && start + bucketMs <= closed, labels: seriesLabels[si - 1] };
    });
    return { counted, skipped, late, outcomes };
  }

  /**
   * Closes every window whose end is at or before the watermark. With `owner` (the input
   * batch that will carry the output), the windows are kept in the emit ledger until that
   * batch is committed; see sliClose-3.lua. `watermark` overrides the shared one (tests,
   * tools); by default it is computed from every partition's published progress. With
   * `idle` (the lease holder's timer): when every partition is idle the watermark follows the
   * wall clock (idleWatermark) and every known series gets an empty window in each bucket
   * this closes; `status` says whether it ran.
   */
  async closeBuckets(options: { owner?: BatchOwner; watermark?: number; nowMs?: number; idle?: IdleClose } = {}): Promise<ClosedBuckets> {
    const { owner, watermark } = options;
    const nowMs = options.nowMs ?? Date.now();
    const w = this.topology.windows;
    const payload = JSON.stringify({
      now: nowMs,
      bucketMs: w.bucketMs,
      latenessMs: w.allowedLatenessMs,
      idleMs: w.idleTimeoutMs,
      watermark: watermark ?? false,
      owner: owner ? partitionId(owner.topic, owner.partition) : '',
      first: owner?.firstOffset ?? '0',
      last: owner?.lastOffset ?? '0',
      chunkBuckets: HISTORY_CHUNK_BUCKETS,
      ttl: this.ttl,
      historyTtl: this.historyTtl,
      maxClaim: this.maxClaim,
      idle: options.idle
        ? { lease: this.keys.sliIdleLease(), holder: options.idle.holder, leaseMs: options.idle.leaseMs, known: this.keys.sliKnownSeries(), skewMs: options.idle.maxFutureSkewMs }
        : false,
    });
    const reply = (await this.scripts.run(
      'sliClose',
      [this.keys.windowMeta(), this.keys.sliOpenWindows(), this.keys.sliEmitLedger()],
      [payload],
      'close SLI windows',
    )) as [string, string, string[], CloseStatus, ...string[][]];
    const [wm, closed, alerts, status, ...rows] = reply;
    return {
      status,
      watermark: wm === '' ? null : Number(wm),
      closedThrough: closed === '' ? null : Number(closed),
      windows: rows.map((row) => this.toWindow(row, nowMs)).filter((x): x is SliWindow => x !== null),
      replayedAlerts: alerts.map((a) => JSON.parse(a) as Alert),
    };
  }

  /** [key, field, value, ...] of a window hash -> the SliWindow record. */
  private toWindow(row: string[], nowMs: number): SliWindow | null {
    const f = new Map<string, string>();
    for (let i = 1; i + 1 < row.length; i += 2) f.set(row[i], row[i + 1]);
    const sliName = f.get('_s');
    const start = Number(f.get('_t'));
    if (sliName === undefined || !Number.isFinite(start)) return null;
    const int = (name: string) => Number(f.get(name) ?? '0');
    const good = int('g');
    const total = int('t');
    let latency = null;
    const sli = this.slis.get(sliName);
    if (sli && sliMeasure(sli) === 'latency' && int('n') > 0) {
      const bins: Array<[string, number]> = [];
      for (const [k, v] of f) if (k === 'z' || /^b-?\d+$/.test(k)) bins.push([k, Number(v)]);
      latency = LatencySketch.fromBins(bins, Number(f.get('m') ?? '0')).summary();
    }
    return {
      topology: this.topology.name,
      sli: sliName,
      labels: parseLabelsKey(f.get('_l') ?? ''),
      window_start: start,
      window_end: start + this.topology.windows.bucketMs,
      good,
      total,
      ratio: total > 0 ? good / total : null,
      latency,
      late_events: int('l'),
      emitted_at: nowMs,
    };
  }
}

/** [partIdx, minOffset, maxOffset, seriesIdx, bucketStart, count, good, {bin: count}, latencyMax|false] (sliAdd-2.lua). */
type AggEntry = [number, number, number, number, number, number, number, Record<string, number>, number | false];

function aggEntry(pi: number, offset: number, si: number, start: number, good: number, bin: string, value: number): AggEntry {
  return [pi, offset, offset, si, start, 1, good, bin === '' ? {} : { [bin]: 1 }, bin === '' ? false : value];
}

/** Runs a pipeline; connection failures become InfrastructureError('redis'), like Scripts.run. */
export async function execPipeline(p: ReturnType<RedisClient['pipeline']>, what: string): Promise<unknown[]> {
  let results: Array<[Error | null, unknown]> | null;
  try {
    results = await p.exec();
  } catch (err) {
    throw toRedisError(err, what);
  }
  if (!results) throw toRedisError(new Error('Connection is closed'), what);
  return results.map(([err, value]) => {
    if (err) throw toRedisError(err, what);
    return value;
  });
}

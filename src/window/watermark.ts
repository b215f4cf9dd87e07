// Event-time watermark: "no more events older than this are expected". Buckets whose end is
// at or before it are closed and emitted once.
//
//   watermark = min over active partitions of (highest event time seen) - allowedLateness
//
// A partition is active while it delivered events, or was (re)assigned, less than idleTimeout
// ago by the wall clock; an idle partition stops holding the watermark back. When every
// partition is idle the watermark is the highest event time seen anywhere minus
// allowedLateness, so the tail of a stream that stopped still gets emitted. An active
// partition that has not delivered an event yet (just assigned, its backlog not read) holds
// the watermark back entirely: its first events may be older than anything seen elsewhere.
//
// Buckets are shared by all instances, so the watermark that closes them is computed over
// every partition of the topology: each instance publishes its partitions' progress to Redis
// and the sliClose script applies this same rule (see SliWindowStore). WatermarkTracker is the
// per-instance model of the rule; computeWatermark is the rule itself.

export interface PartitionProgress {
  topic: string;
  partition: number;
  /** Highest event time seen on the partition, epoch ms; undefined before its first event. */
  highEventTime?: number;
  /** Wall clock of the last batch from (or assignment of) the partition, epoch ms. */
  lastActiveMs: number;
}

export interface WatermarkSpec {
  allowedLatenessMs: number;
  idleTimeoutMs: number;
}

/** null while no partition has seen an event, or an active one has not seen one yet. */
export function computeWatermark(parts: Iterable<PartitionProgress>, nowMs: number, spec: WatermarkSpec): number | null {
  let minActive = Infinity;
  let maxAll = -Infinity;
  for (const p of parts) {
    const active = nowMs - p.lastActiveMs < spec.idleTimeoutMs;
    if (p.highEventTime === undefined) {
      if (active) return null;
      continue;
    }
    maxAll = Math.max(maxAll, p.highEventTime);
    if (active) minActive = Math.min(minActive, p.highEventTime);
  }
  if (maxAll === -Infinity) return null;
  return (minActive === Infinity ? maxAll : minActive) - spec.allowedLatenessMs;
}

export interface IdleWatermarkSpec extends WatermarkSpec {
  /** The sources' largest maxFutureSkew. */
  maxFutureSkewMs: number;
}

/**
 * The watermark of the wall-clock (idle) close, which runs only when no partition is active:
 *
 *   watermark = max(highest event time seen, now - maxFutureSkew) - allowedLateness
 *
 * A source accepts event times up to maxFutureSkew ahead of our clock; a producer's clock is
 * trusted to be off by no more than that in the other direction either, so an event produced
 * now carries an event time of at least now - maxFutureSkew, and allowedLateness covers the
 * events still on their way, as for the event-time rule. Event time seen ahead of the wall
 * clock keeps its own watermark (max). null while a partition is active (the batches close
 * then) or before any event time was seen.
 */
export function idleWatermark(parts: Iterable<PartitionProgress>, nowMs: number, spec: IdleWatermarkSpec): number | null {
  let maxAll = -Infinity;
  for (const p of parts) {
    if (nowMs - p.lastActiveMs < spec.idleTimeoutMs) return null;
    if (p.highEventTime !== undefined) maxAll = Math.max(maxAll, p.highEventTime);
  }
  if (maxAll === -Infinity) return null;
  return Math.max(maxAll, nowMs - spec.maxFutureSkewMs) - spec.allowedLatenessMs;
}

const id = (topic: string, partition: number) => `${topic}|${partition}`;

/** Progress of the partitions assigned to this instance. */
export class WatermarkTracker {
  private readonly parts = new Map<string, PartitionProgress>();

  constructor(private readonly spec: WatermarkSpec) {}

  /** (Re)assignment restarts the idle clock: a partition just handed over may have a backlog. */
  assign(topic: string, partitions: readonly number[], nowMs: number): void {
    for (const partition of partitions) {
      const existing = this.parts.get(id(topic, partition));
      this.parts.set(id(topic, partition), { topic, partition, highEventTime: existing?.highEventTime, lastActiveMs: nowMs });
    }
  }

  revoke(topic: string, partitions: readonly number[]): void {
    for (const partition of partitions) this.parts.delete(id(topic, partition));
  }

  /** One event (or a batch's highest event time) from an assigned partition. */
  observe(topic: string, partition: number, eventTime: number, nowMs: number): void {
    const p = this.parts.get(id(topic, partition)) ?? { topic, partition, lastActiveMs: nowMs };
    p.highEventTime = p.highEventTime === undefined ? eventTime : Math.max(p.highEventTime, eventTime);
    p.lastActiveMs = nowMs;
    this.parts.set(id(topic, partition), p);
  }

  watermark(nowMs: number): number | null {
    return computeWatermark(this.parts.values(), nowMs, this.spec);
  }

  progress(): PartitionProgress[] {
    return [...this.parts.values()].map((p) => ({ ...p }));
  }
}

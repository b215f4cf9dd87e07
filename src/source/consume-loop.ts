import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { dependencyOf, isTransient } from '../errors/transient';
import { withRetry } from '../errors/retry';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Topology } from '../topology/types';
import { sleepWithHeartbeat } from './heartbeat';

/** A slice of one partition's fetched batch, handled (processed, delivered, committed) as one. */
export interface Chunk {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  /** The offset to commit once the chunk is done (its last offset + 1). */
  nextOffset: string;
}

export interface ConsumeLoopOptions {
  kafka: Kafka;
  topology: Topology;
  /** Processes, delivers and commits one chunk; throws what it could not finish. */
  handle(chunk: Chunk): Promise<void>;
  /** Called once the consumer is connected, before it joins (delivery needs it for commits). */
  connected(consumer: Consumer): Promise<void>;
  /** A non-retriable failure outside per-event work: the engine must stop. Called once. */
  fatal(err: unknown): void;
  /** kafkajs's consumer crashed; `restart` says whether kafkajs will restart it. */
  crashed?(err: unknown, restart: boolean): void;
  /** The consumer (re)joined its group, with this member's partitions. */
  joined?(assignment: Record<string, number[]>): void;
  metrics: Metrics;
  log: Logger;
  /** Events per chunk: bounds memory and the size of one transaction. */
  chunkSize?: number;
  partitionsConsumedConcurrently?: number;
}

/**
 * The Kafka consumer, and nothing of what happens to events: one consumer group per
 * topology, membership, fetch, chunking, pause/resume and heartbeats. Each partition batch
 * is cut into chunks; a chunk is handled before the next one, so at most one chunk per
 * partition is in flight. A retriable failure pauses the partition and retries the chunk
 * (one retry helper, jittered backoff, heartbeating meanwhile); anything else stops
 * consumption and is reported as fatal, never retried.
 */
export class ConsumeLoop {
  private consumer?: Consumer;
  private running = false;
  private stopped = false;
  /** "topic\npartition" of this member's partitions since the last join; null before the first. */
  private assigned: Set<string> | null = null;
  /** Partitions with a tracklane_consumer_lag series exported by this instance. */
  private readonly lagSeries = new Map<string, { topic: string; partition: string }>();

  constructor(private readonly o: ConsumeLoopOptions) {}

  /**
   * On each join: the lag of a partition another member now owns is that member's to report,
   * so its series goes (a sum across pods would count it twice, and forever).
   */
  onJoined(assignment: Record<string, number[]>): void {
    this.assigned = new Set(Object.entries(assignment).flatMap(([topic, parts]) => parts.map((p) => `${topic}\n${p}`)));
    for (const [key, labels] of this.lagSeries) {
      if (this.assigned.has(key)) continue;
      this.o.metrics.consumerLag.remove(labels);
      this.lagSeries.delete(key);
    }
    this.o.joined?.(assignment);
  }

  private setLag(topic: string, partition: number, lag: number): void {
    const key = `${topic}\n${partition}`;
    // A chunk finishing after its partition was revoked does not bring the series back.
    if (this.assigned && !this.assigned.has(key)) return;
    const labels = { topic, partition: String(partition) };
    this.lagSeries.set(key, labels);
    this.o.metrics.consumerLag.set(labels, Math.max(0, lag));
  }

  get isRunning(): boolean {
    return this.running && !this.stopped;
  }

  async start(): Promise<void> {
    const { kafka, topology } = this.o;
    const consumer = kafka.consumer({
      groupId: topology.name,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 1_048_576,
      maxWaitTimeInMs: 100,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => this.onJoined(payload.memberAssignment));
    consumer.on(consumer.events.CRASH, ({ payload }) => this.o.crashed?.(payload.error, payload.restart));
    await consumer.connect();
    await this.o.connected(consumer);
    for (const source of topology.sources) await consumer.subscribe({ topic: source.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.o.partitionsConsumedConcurrently ?? 4,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.running = true;
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const size = this.o.chunkSize ?? 500;
    this.o.metrics.consumed.inc({ source: this.sourceName(batch.topic) }, batch.messages.length);
    for (let i = 0; i < batch.messages.length; i += size) {
      if (this.stopped || !payload.isRunning() || payload.isStale()) return;
      const messages = batch.messages.slice(i, i + size);
      const last = messages[messages.length - 1].offset;
      const chunk: Chunk = { topic: batch.topic, partition: batch.partition, messages, nextOffset: String(BigInt(last) + 1n) };
      if (!(await this.handle(payload, chunk))) return;
      payload.resolveOffset(last);
      const lag = Number(batch.highWatermark) - Number(last) - 1;
      this.setLag(batch.topic, batch.partition, lag);
      await payload.heartbeat();
    }
  }

  /** False when the chunk was not finished: the partition was taken away, or the engine is stopping. */
  private async handle(payload: EachBatchPayload, chunk: Chunk): Promise<boolean> {
    try {
      await withRetry(() => this.o.handle(chunk), {
        log: this.o.log,
        what: `batch ${chunk.topic}[${chunk.partition}]`,
        message: 'batch failed; pausing the partition and retrying',
        fields: (err) => ({ dependency: dependencyOf(err), topic: chunk.topic, partition: chunk.partition }),
        onRetry: (err) => this.o.metrics.infraRetries.inc({ dependency: dependencyOf(err) }),
        wait: async (ms) => {
          const resume = payload.pause();
          try {
            return !this.stopped && (await sleepWithHeartbeat(ms, payload));
          } finally {
            resume();
          }
        },
      });
      return true;
    } catch (err) {
      // Retried until the partition went to another member (or we are stopping): its new owner takes over.
      if (isTransient(err)) return false;
      this.stopConsuming();
      this.o.fatal(err);
      return false;
    }
  }

  /** After a fatal error: fetch nothing more, so the failed chunk is not picked up again. */
  private stopConsuming(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      this.consumer?.pause(this.o.topology.sources.map((s) => ({ topic: s.topic })));
    } catch {
      // not running yet or already stopping: nothing to pause
    }
  }

  private sourceName(topic: string): string {
    return this.o.topology.sources.find((s) => s.topic === topic)?.name ?? topic;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    // disconnect() waits for the batch in flight, so its outputs and offsets are committed.
    await this.consumer?.disconnect();
  }
}

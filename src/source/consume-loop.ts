import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { DataError, InfrastructureError } from '../errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { PipelineEvent, StageContext } from '../pipeline/event';
import type { Pipeline } from '../pipeline/pipeline';
import type { Delivery, PartitionCommit } from '../sink/delivery';
import type { OutputMessage } from '../sink/output';
import type { SourceSpec, Topology } from '../topology/types';
import { backoffDelay } from '../errors/retry';
import { sleepWithHeartbeat } from './heartbeat';

/** Turns a processed batch into output records (enriched, dead letters) and counts outcomes. */
export interface OutputBuilder {
  build(events: PipelineEvent[]): OutputMessage[];
}

/** Work that follows enrichment and may add records to the same delivery (SLI windows, alerts). */
export interface BatchObserver {
  observe(events: PipelineEvent[], commit: PartitionCommit): Promise<OutputMessage[]>;
}

export interface ConsumeLoopOptions {
  kafka: Kafka;
  topology: Topology;
  pipeline: Pipeline;
  outputs: OutputBuilder;
  observers: BatchObserver[];
  delivery: (consumer: Consumer) => Promise<Delivery>;
  metrics: Metrics;
  log: Logger;
  instanceId: string;
  /** Events per pipeline pass: bounds memory and the size of one transaction. */
  chunkSize?: number;
  partitionsConsumedConcurrently?: number;
  /** Called with this member's partitions after every rebalance. */
  onAssigned?(assignment: Record<string, number[]>): Promise<void>;
}

export function toPipelineEvent(source: SourceSpec, topic: string, partition: number, message: KafkaMessage): PipelineEvent {
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value === undefined) continue;
    // Repeated headers collapse to the last value; dead letters keep what kafkajs gives us.
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    // Defined, not assigned: a header named `__proto__` must stay a header, not become the prototype.
    Object.defineProperty(headers, name, { value: Buffer.isBuffer(last) ? last : Buffer.from(String(last ?? '')), enumerable: true, writable: true, configurable: true });
  }
  return {
    source, topic, partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key ?? null,
    value: message.value ?? null,
    headers,
    meta: { steps: [], pseudonymized: [] },
  };
}

/**
 * One consumer group per topology. Each partition batch is cut into chunks; a chunk is
 * processed, delivered and committed before the next one, so at most one chunk per
 * partition is in flight. Infrastructure failures pause the partition and retry the chunk
 * from its raw records with jittered backoff, heartbeating meanwhile; they never drop or
 * dead-letter events.
 */
export class ConsumeLoop {
  private consumer?: Consumer;
  private delivery?: Delivery;
  private running = false;
  private readonly sources = new Map<string, SourceSpec>();

  constructor(private readonly o: ConsumeLoopOptions) {
    for (const s of o.topology.sources) this.sources.set(s.topic, s);
  }

  get isRunning(): boolean {
    return this.running;
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
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.o.onAssigned?.(payload.memberAssignment).catch((err) => this.o.log.warn({ err: describe(err) }, 'could not record the new assignment'));
    });
    await consumer.connect();
    this.delivery = await this.o.delivery(consumer);
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
    const source = this.sources.get(batch.topic)!;
    const size = this.o.chunkSize ?? 500;
    this.o.metrics.consumed.inc({ source: source.name }, batch.messages.length);
    for (let i = 0; i < batch.messages.length; i += size) {
      if (!payload.isRunning() || payload.isStale()) return;
      const chunk = batch.messages.slice(i, i + size);
      const done = await this.processChunk(payload, source, chunk);
      if (!done) return;
      const last = chunk[chunk.length - 1].offset;
      payload.resolveOffset(last);
      const lag = Number(batch.highWatermark) - Number(last) - 1;
      this.o.metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, Math.max(0, lag));
      await payload.heartbeat();
    }
  }

  /** Returns false when the partition was taken away while retrying. */
  private async processChunk(payload: EachBatchPayload, source: SourceSpec, chunk: KafkaMessage[]): Promise<boolean> {
    const { batch } = payload;
    const commit: PartitionCommit = {
      topic: batch.topic,
      partition: batch.partition,
      nextOffset: String(BigInt(chunk[chunk.length - 1].offset) + 1n),
    };
    const ctx: StageContext = { topology: this.o.topology, instanceId: this.o.instanceId, log: this.o.log };
    for (let attempt = 0; ; attempt++) {
      try {
        const events = chunk.map((m) => toPipelineEvent(source, batch.topic, batch.partition, m));
        await this.o.pipeline.process(events, ctx);
        const messages = this.o.outputs.build(events);
        for (const observer of this.o.observers) messages.push(...(await observer.observe(events, commit)));
        await this.delivery!.deliver(messages, commit);
        this.countDelivered(events);
        return true;
      } catch (err) {
        if (err instanceof DataError) throw err; // a bug: data errors never escape a stage
        const dependency = err instanceof InfrastructureError ? err.dependency : 'kafka';
        this.o.metrics.infraRetries.inc({ dependency });
        const wait = backoffDelay(attempt);
        this.o.log.warn({ err: describe(err), dependency, topic: batch.topic, partition: batch.partition, attempt, waitMs: wait }, 'batch failed; pausing the partition and retrying');
        const resume = payload.pause();
        try {
          const alive = await sleepWithHeartbeat(wait, payload);
          if (!alive) return false;
        } finally {
          resume();
        }
      }
    }
  }

  private countDelivered(events: PipelineEvent[]): void {
    const m = this.o.metrics;
    const now = Date.now();
    for (const ev of events) {
      if (ev.failure) m.deadLettered.inc({ reason: ev.failure.reason });
      else if (ev.dropped === 'duplicate') m.duplicates.inc();
      else if (ev.dropped === 'consent') m.consentDropped.inc();
      else {
        m.enriched.inc();
        if (ev.meta.correlation_generated) m.correlationGenerated.inc();
        if (ev.eventTime !== undefined) {
          m.deliveryLatency.observe(Math.max(0, now - ev.eventTime) / 1000);
          m.clockSkew.observe((ev.timestamp - ev.eventTime) / 1000);
        }
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    // disconnect() waits for the batch in flight, so its outputs and offsets are committed.
    await this.consumer?.disconnect();
    await this.delivery?.close();
  }
}

function describe(err: unknown): { name?: string; message: string; code?: string } {
  const e = err as { name?: string; message?: string; code?: string; type?: string };
  return { name: e?.name, message: String(e?.message ?? err), code: e?.code ?? e?.type };
}

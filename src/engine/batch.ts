import type { KafkaMessage } from 'kafkajs';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { PipelineEvent, StageContext } from '../pipeline/event';
import { StageFailed, type Pipeline } from '../pipeline/pipeline';
import type { Delivery, PartitionCommit } from '../sink/delivery';
import type { BatchObserver, OutputBuilder, OutputMessage } from '../sink/output';
import { outputBytesCounter } from '../observability/cost';
import type { Chunk } from '../source/consume-loop';
import type { SourceSpec, Topology } from '../topology/types';

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

export interface BatchConductorOptions {
  topology: Topology;
  pipeline: Pipeline;
  outputs: OutputBuilder;
  observers: BatchObserver[];
  metrics: Metrics;
  log: Logger;
  instanceId: string;
}

/**
 * The batch conductor: one chunk in -> stages -> outputs -> delivery -> commit -> outcome
 * counters. It throws what it cannot finish; the source retries retriable failures with the
 * partition paused, from the raw records, so a retry never sees half-processed events.
 */
export class BatchConductor {
  private readonly sources = new Map<string, SourceSpec>();
  private delivery?: Delivery;

  private readonly countOutputBytes: (messages: readonly OutputMessage[]) => void;

  constructor(private readonly o: BatchConductorOptions) {
    for (const s of o.topology.sources) this.sources.set(s.topic, s);
    this.countOutputBytes = outputBytesCounter(o.topology, o.metrics.outputBytes);
  }

  /** Set once the consumer is connected (at-least-once commits through it). */
  useDelivery(delivery: Delivery): void {
    this.delivery = delivery;
  }

  async handle(chunk: Chunk): Promise<void> {
    const source = this.sources.get(chunk.topic)!;
    const commit: PartitionCommit = { topic: chunk.topic, partition: chunk.partition, nextOffset: chunk.nextOffset };
    // Stages that threw on the whole batch, run event by event on the next pass.
    const isolate = new Set<string>();
    for (;;) {
      const events = chunk.messages.map((m) => toPipelineEvent(source, chunk.topic, chunk.partition, m));
      const ctx: StageContext = { topology: this.o.topology, instanceId: this.o.instanceId, log: this.o.log, extraOutputs: [], firstOffset: chunk.messages[0]?.offset };
      try {
        await this.o.pipeline.process(events, ctx, isolate);
      } catch (err) {
        if (!(err instanceof StageFailed)) throw err;
        if (isolate.has(err.path)) throw err.error; // cannot happen: an isolated stage dead-letters instead
        this.o.log.warn({ stage: err.path, topic: chunk.topic, partition: chunk.partition, error: (err.error as Error)?.name }, 'stage failed on the batch; running it event by event');
        isolate.add(err.path);
        continue;
      }
      const messages = this.o.outputs.build(events);
      messages.push(...ctx.extraOutputs!);
      for (const observer of this.o.observers) messages.push(...(await observer.observe(events, commit)));
      await this.delivery!.deliver(messages, commit);
      this.countOutputBytes(messages);
      this.countDelivered(events);
      return;
    }
  }

  private countDelivered(events: PipelineEvent[]): void {
    const m = this.o.metrics;
    const now = Date.now();
    for (const ev of events) {
      if (ev.sample && !ev.failure) m.sampleEvents.inc(ev.sample);
      if (ev.failure) m.deadLettered.inc({ reason: ev.failure.reason });
      else if (ev.dropped === 'duplicate') m.duplicates.inc();
      else if (ev.dropped === 'consent') m.consentDropped.inc();
      else if (ev.dropped === 'sampled') continue; // counted above, as decision="dropped"
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

  async close(): Promise<void> {
    await this.delivery?.close();
  }
}

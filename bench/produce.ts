// Writing the workload to the input topic: all at once before a run (the backlog), or paced
// at a fixed rate while the engine runs (from a child process, see paced-producer.ts).
// Each slice is stamped with its send time, which is the input record timestamp that
// end-to-end latency is measured from; a sample of unique keys keeps that time.
import type { Kafka, Producer } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import { Workload, WorkloadEncoder, type WorkloadSpec } from './workload';

export interface ProduceResult {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** Unique event_id -> input record timestamp (epoch ms), for latency samples. */
  samples: Map<string, number>;
  /** Paced only: how far the producer fell behind its schedule at worst, ms. */
  maxLagMs?: number;
  /** Paced only: events of the first seconds are not sampled (start-up of both sides). */
  warmupMs?: number;
  /** Epoch ms when the last event was acknowledged. */
  finishedAt: number;
}

/** At most ~20,000 latency samples per run, spread over the input. */
export function sampleEvery(events: number): number {
  return Math.max(1, Math.floor(events / 20_000));
}

export async function connectProducer(kafka: Kafka): Promise<Producer> {
  // The same producer settings as `tracklane produce`: idempotent, acks=all.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}

async function sendSlice(producer: Producer, topic: string, enc: WorkloadEncoder, from: number, to: number, samples: Map<string, number>, every: number): Promise<void> {
  const now = Date.now();
  const messages = enc.messages(from, to, now).map((m) => ({ ...m, timestamp: String(now) }));
  for (let i = from; i < to; i++) {
    if (i % every === 0 && enc.sampleable(i)) samples.set(String(messages[i - from].key), now);
  }
  await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.None });
}

/** The whole input as fast as one idempotent producer goes. */
export async function produceBacklog(o: {
  kafka: Kafka; topic: string; spec: WorkloadSpec; slice?: number; onProgress?: (done: number) => void;
}): Promise<ProduceResult> {
  const enc = new WorkloadEncoder(new Workload(o.spec));
  const producer = await connectProducer(o.kafka);
  const samples = new Map<string, number>();
  const every = sampleEvery(o.spec.events);
  const slice = o.slice ?? 2000;
  const t0 = performance.now();
  try {
    for (let i = 0; i < o.spec.events; i += slice) {
      await sendSlice(producer, o.topic, enc, i, Math.min(o.spec.events, i + slice), samples, every);
      o.onProgress?.(Math.min(o.spec.events, i + slice));
    }
  } finally {
    await producer.disconnect();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { events: o.spec.events, seconds, eventsPerSecond: o.spec.events / seconds, samples, finishedAt: Date.now() };
}

/**
 * The input at `rate` events/s, in 20 ms slices on a fixed schedule (late slices catch up).
 * Latency is sampled after a warm-up of 10% of the run (at least 3 s).
 */
export async function producePaced(o: {
  kafka: Kafka; topic: string; spec: WorkloadSpec; rate: number; onProgress?: (done: number) => void; signal?: AbortSignal;
}): Promise<ProduceResult> {
  const enc = new WorkloadEncoder(new Workload(o.spec));
  const producer = await connectProducer(o.kafka);
  const samples = new Map<string, number>();
  const every = sampleEvery(o.spec.events);
  const tickMs = 20;
  let maxLagMs = 0;
  let sent = 0;
  const warmupMs = Math.max(3000, (0.1 * o.spec.events * 1000) / o.rate);
  const warm = new Map<string, number>();
  const t0 = performance.now();
  try {
    for (let tick = 1; sent < o.spec.events && !o.signal?.aborted; tick++) {
      const due = t0 + tick * tickMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else maxLagMs = Math.max(maxLagMs, -wait);
      const target = Math.min(o.spec.events, Math.round((tick * tickMs * o.rate) / 1000));
      if (target > sent) {
        await sendSlice(producer, o.topic, enc, sent, target, tick * tickMs < warmupMs ? warm : samples, every);
        sent = target;
        o.onProgress?.(sent);
      }
    }
  } finally {
    await producer.disconnect();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { events: sent, seconds, eventsPerSecond: sent / seconds, samples, maxLagMs: Math.round(maxLagMs), warmupMs: Math.round(warmupMs), finishedAt: Date.now() };
}

// The kafkajs baseline: read the input and write the same bytes to another topic, doing no
// work in between, with the engine's consume and delivery settings (src/source/consume-loop.ts,
// src/sink/delivery.ts): eachBatch, chunks of `chunkSize`, 4 partitions concurrently,
// idempotent producer with acks=all and one request in flight, commit after the ack; for
// exactly-once, one transactional producer per input partition and sendOffsets per chunk.
// Whatever the engine adds on top of this is the cost of its work.
import type { EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import type { Delivery } from '../src/topology/types';
import { TRANSACTION_RETRY } from '../src/sink/delivery';
import { PRODUCER_OPTIONS } from '../src/sink/producer';

export interface PassThrough {
  start(): Promise<void>;
  done(): number;
  stop(): Promise<void>;
}

export function passThrough(o: { kafka: Kafka; input: string; output: string; delivery: Delivery; groupId: string; chunkSize: number }): PassThrough {
  const { kafka } = o;
  const consumer = kafka.consumer({
    groupId: o.groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    maxBytesPerPartition: 1_048_576,
    maxWaitTimeInMs: 100,
  });
  const producers = new Map<number, Promise<Producer>>();
  let shared: Producer | undefined;
  let done = 0;

  const producerFor = (partition: number): Promise<Producer> => {
    let p = producers.get(partition);
    if (!p) {
      const producer = kafka.producer({ ...PRODUCER_OPTIONS, transactionalId: `${o.groupId}-${o.input}-${partition}`, retry: TRANSACTION_RETRY });
      p = producer.connect().then(() => producer);
      producers.set(partition, p);
    }
    return p;
  };

  async function deliver(partition: number, chunk: KafkaMessage[]): Promise<void> {
    const messages = chunk.map((m) => ({ key: m.key, value: m.value, headers: m.headers as Record<string, Buffer> }));
    const nextOffset = String(BigInt(chunk[chunk.length - 1].offset) + 1n);
    if (o.delivery === 'at-least-once') {
      await shared!.sendBatch({ topicMessages: [{ topic: o.output, messages }], acks: -1, compression: CompressionTypes.None });
      await consumer.commitOffsets([{ topic: o.input, partition, offset: nextOffset }]);
      return;
    }
    const tx = await (await producerFor(partition)).transaction();
    try {
      await tx.sendBatch({ topicMessages: [{ topic: o.output, messages }], acks: -1 });
      await tx.sendOffsets({ consumerGroupId: o.groupId, topics: [{ topic: o.input, partitions: [{ partition, offset: nextOffset }] }] });
      await tx.commit();
    } catch (err) {
      await tx.abort().catch(() => undefined);
      throw err;
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    for (let i = 0; i < batch.messages.length; i += o.chunkSize) {
      if (!payload.isRunning() || payload.isStale()) return;
      const chunk = batch.messages.slice(i, i + o.chunkSize);
      await deliver(batch.partition, chunk);
      done += chunk.length;
      payload.resolveOffset(chunk[chunk.length - 1].offset);
      await payload.heartbeat();
    }
  }

  return {
    async start() {
      await consumer.connect();
      if (o.delivery === 'at-least-once') {
        shared = kafka.producer(PRODUCER_OPTIONS);
        await shared.connect();
      }
      await consumer.subscribe({ topic: o.input, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 4, eachBatch });
    },
    done: () => done,
    async stop() {
      await consumer.disconnect();
      await shared?.disconnect();
      await Promise.all([...producers.values()].map(async (p) => (await p.catch(() => undefined))?.disconnect()));
    },
  };
}

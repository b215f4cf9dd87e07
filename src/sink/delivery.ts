import type { CompressionTypes, Consumer, Kafka, Producer, TopicMessages } from 'kafkajs';
import { isKafkaFenced } from '../errors/transient';
import { PRODUCER_OPTIONS } from './producer';
import { splitBySize, type TopicLimits } from './limits';
import type { OutputMessage } from './output';

export interface PartitionCommit {
  topic: string;
  partition: number;
  /** The next offset to read (last processed + 1). */
  nextOffset: string;
}

/**
 * Hands a batch's outputs to Kafka and commits the input offset only after Kafka
 * acknowledged them (DESIGN.md section 8). Two modes share this contract.
 */
/** Where delivery reports a producer that a newer one fenced, and its recovery (engine/health.ts). */
export interface DeliveryHealth {
  down(problem: string, err: unknown): void;
  up(problem: string): void;
}

export interface Delivery {
  deliver(messages: OutputMessage[], commit: PartitionCommit): Promise<void>;
  close(): Promise<void>;
}

export function byTopic(messages: OutputMessage[]): TopicMessages[] {
  const grouped = new Map<string, TopicMessages>();
  for (const m of messages) {
    let entry = grouped.get(m.topic);
    if (!entry) grouped.set(m.topic, (entry = { topic: m.topic, messages: [] }));
    entry.messages.push({ key: m.key, value: m.value, headers: m.headers, partition: m.partition });
  }
  return [...grouped.values()];
}

/** at-least-once: idempotent producer, acks=all, then commit. A crash between the two replays the batch. */
export class AtLeastOnceDelivery implements Delivery {
  private constructor(private readonly producer: Producer, private readonly consumer: Consumer, private readonly limits: TopicLimits) {}

  static async create(kafka: Kafka, consumer: Consumer, limits: TopicLimits = new Map()): Promise<AtLeastOnceDelivery> {
    const producer = kafka.producer(PRODUCER_OPTIONS);
    await producer.connect();
    return new AtLeastOnceDelivery(producer, consumer, limits);
  }

  async deliver(messages: OutputMessage[], commit: PartitionCommit): Promise<void> {
    // One send per size-bounded slice, in order; the offset is committed after the last one.
    for (const slice of splitBySize(messages, this.limits)) {
      await this.producer.sendBatch({ topicMessages: byTopic(slice), acks: -1, compression: 0 as CompressionTypes.None /* kafkajs's value, without loading it */ });
    }
    await this.consumer.commitOffsets([{ topic: commit.topic, partition: commit.partition, offset: commit.nextOffset }]);
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

/**
 * Retries of a transactional producer. A transaction that starts right after the previous
 * commit often meets CONCURRENT_TRANSACTIONS (the coordinator is still writing the commit
 * markers); kafkajs's first retry comes after ~300 ms, which the bench showed as latency
 * spikes. The Java client waits 20 ms for this error. Same unlimited retries as kafkajs
 * gives idempotent producers; backoff still grows to kafkajs's 30 s cap.
 */
export const TRANSACTION_RETRY = { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 25 };

/**
 * exactly-once: outputs and the input offset in one Kafka transaction per batch. kafkajs
 * allows one open transaction per producer, so each input partition gets its own
 * transactional producer with a stable id: when a rebalance moves the partition, the new
 * owner's initTransactions fences the old one.
 */
export class ExactlyOnceDelivery implements Delivery {
  private readonly producers = new Map<string, Promise<Producer>>();

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly transactionalIdPrefix: string,
    private readonly health?: DeliveryHealth,
    private readonly limits: TopicLimits = new Map(),
  ) {}

  private producerFor(topic: string, partition: number): Promise<Producer> {
    const id = `${this.transactionalIdPrefix}-${topic}-${partition}`;
    let found = this.producers.get(id);
    if (!found) {
      const producer = this.kafka.producer({ ...PRODUCER_OPTIONS, transactionalId: id, retry: TRANSACTION_RETRY });
      found = producer.connect().then(() => producer);
      found.catch(() => this.producers.delete(id));
      this.producers.set(id, found);
    }
    return found;
  }

  async deliver(messages: OutputMessage[], commit: PartitionCommit): Promise<void> {
    const id = `${this.transactionalIdPrefix}-${commit.topic}-${commit.partition}`;
    const producer = await this.producerFor(commit.topic, commit.partition);
    const tx = await producer.transaction();
    try {
      for (const slice of splitBySize(messages, this.limits)) await tx.sendBatch({ topicMessages: byTopic(slice), acks: -1 });
      await tx.sendOffsets({
        consumerGroupId: this.groupId,
        topics: [{ topic: commit.topic, partitions: [{ partition: commit.partition, offset: commit.nextOffset }] }],
      });
      await tx.commit();
      this.health?.up(`producer ${commit.topic}[${commit.partition}]`);
    } catch (err) {
      // Fenced once is a rebalance (the partition's new owner took over); fenced until the
      // bound while we still own the partition is a stuck instance (not ready, then exit).
      if (isKafkaFenced(err)) this.health?.down(`producer ${commit.topic}[${commit.partition}]`, err);
      await tx.abort().catch(() => undefined);
      // A fenced or broken producer cannot be reused: start a fresh one (and epoch) on retry.
      this.producers.delete(id);
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    const all = [...this.producers.values()];
    this.producers.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.disconnect()));
  }
}

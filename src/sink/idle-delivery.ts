import type { Admin, CompressionTypes, Kafka, Producer } from 'kafkajs';
import { byTopic, TRANSACTION_RETRY } from './delivery';
import { splitBySize, type TopicLimits } from './limits';
import type { OutputMessage } from './output';
import { PRODUCER_OPTIONS } from './producer';

// Delivery of the idle (wall-clock) close's windows and alerts (engine/idle.ts). Each close
// has a sequence number, kept in the emit ledger as the idle owner's "offset" (see
// SloObserver.closeIdle). Whether a close was delivered decides whether the next one hands
// its records out again, so the mode's guarantee is the one of that answer:
// - exactly-once: the records and the sequence number go in one Kafka transaction of a
//   producer with a stable transactional id; the sequence is committed as the offset of
//   partition 0 of the first source topic in a consumer group of its own (no consumer ever
//   joins it). A new holder connects first (fencing the previous holder's producer and
//   finishing its transaction), then reads that offset: it knows exactly what was committed.
// - at-least-once: an idempotent producer, acks=all; after a restart nothing says whether
//   the last close was delivered, so it is delivered again (same keys, same content).

export interface IdleDelivery {
  /**
   * Connects and returns the next sequence number to use: every close below it was
   * delivered. null: not known (at-least-once after a start or a failure).
   */
  resume(): Promise<number | null>;
  /** Delivers one close's records, marked as sequence `seq`. */
  deliver(messages: OutputMessage[], seq: number): Promise<void>;
  close(): Promise<void>;
}

export const idleTransactionalId = (topology: string) => `tracklane-${topology}-idle`;
export const idleGroupId = (topology: string) => `tracklane-${topology}-idle`;

export class TransactionalIdleDelivery implements IdleDelivery {
  private producer?: Producer;

  constructor(
    private readonly kafka: Kafka,
    private readonly topology: string,
    /** Topic whose partition 0 carries the sequence in the idle group (the first source). */
    private readonly anchorTopic: string,
    private readonly limits: TopicLimits = new Map(),
  ) {}

  async resume(): Promise<number | null> {
    await this.drop();
    const producer = this.kafka.producer({ ...PRODUCER_OPTIONS, transactionalId: idleTransactionalId(this.topology), retry: TRANSACTION_RETRY });
    await producer.connect();
    this.producer = producer;
    // kafkajs initialises the transactional id at the first transaction(), not at connect():
    // begin and abort an empty one, so any older producer with this id is fenced and its open
    // transaction finished (the coordinator aborts it) before the offset below is read.
    const fence = await producer.transaction();
    await fence.abort();
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      const [topic] = await admin.fetchOffsets({ groupId: idleGroupId(this.topology), topics: [this.anchorTopic] });
      const offset = Number(topic?.partitions.find((p) => p.partition === 0)?.offset ?? '-1');
      return offset < 0 ? 0 : offset;
    } finally {
      await admin.disconnect();
    }
  }

  async deliver(messages: OutputMessage[], seq: number): Promise<void> {
    if (!this.producer) throw new Error('idle delivery used before resume()');
    const tx = await this.producer.transaction();
    try {
      for (const slice of splitBySize(messages, this.limits)) await tx.sendBatch({ topicMessages: byTopic(slice), acks: -1 });
      await tx.sendOffsets({
        consumerGroupId: idleGroupId(this.topology),
        topics: [{ topic: this.anchorTopic, partitions: [{ partition: 0, offset: String(seq + 1) }] }],
      });
      await tx.commit();
    } catch (err) {
      await tx.abort().catch(() => undefined);
      // A fenced or broken producer cannot be reused; resume() starts a fresh one.
      await this.drop();
      throw err;
    }
  }

  private async drop(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    await p?.disconnect().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.drop();
  }
}

export class IdempotentIdleDelivery implements IdleDelivery {
  private producer?: Producer;

  constructor(private readonly kafka: Kafka, private readonly limits: TopicLimits = new Map()) {}

  async resume(): Promise<number | null> {
    if (!this.producer) {
      const producer = this.kafka.producer(PRODUCER_OPTIONS);
      await producer.connect();
      this.producer = producer;
    }
    return null;
  }

  async deliver(messages: OutputMessage[]): Promise<void> {
    if (!this.producer) throw new Error('idle delivery used before resume()');
    for (const slice of splitBySize(messages, this.limits)) {
      await this.producer.sendBatch({ topicMessages: byTopic(slice), acks: -1, compression: 0 as CompressionTypes.None });
    }
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    await p?.disconnect().catch(() => undefined);
  }
}

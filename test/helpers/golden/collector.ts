import type { Consumer, IHeaders } from 'kafkajs';
import { kafka } from '../stack-env';

// Reads a case's output topics as a downstream read_committed consumer, for the whole run:
// one consumer group for all outputs, so a case pays for one group join, not four.

export interface CollectedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export class OutputCollector {
  readonly messages: CollectedMessage[] = [];
  private lastArrival = Date.now();

  private constructor(private readonly consumer: Consumer, readonly groupId: string) {}

  static async start(topics: string[], groupId: string): Promise<OutputCollector> {
    const consumer = kafka('tracklane-golden-collector').consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100 });
    const c = new OutputCollector(consumer, groupId);
    await consumer.connect();
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        c.messages.push({ topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} });
        c.lastArrival = Date.now();
      },
    });
    return c;
  }

  count(topic: string): number {
    return this.messages.filter((m) => m.topic === topic).length;
  }

  /**
   * Call once the engine committed all input (so every output is already in Kafka): waits
   * until each topic has at least its expected count (when known) and nothing new arrived
   * for `quietMs`, or until `timeoutMs`.
   */
  async settle(expected: Map<string, number> | undefined, quietMs: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const since = Date.now();
    while (Date.now() < deadline) {
      const enough = !expected || [...expected].every(([topic, n]) => this.count(topic) >= n);
      if (enough && Date.now() - Math.max(this.lastArrival, since) >= quietMs) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

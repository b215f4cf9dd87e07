import type { Consumer } from 'kafkajs';
import { kafka, uniqueName } from './stack-env';

// Watches an output topic the way a downstream read_committed consumer sees it, for the
// whole length of a test: how far the engine has got (to pick kill points) and, per message
// key, how often it arrived. Keys are Tracklane's idempotency keys, so no decoding needed.

export class CommittedWatch {
  readonly seen = new Map<string, number>();
  private received = 0;
  private constructor(private readonly consumer: Consumer, private readonly groupId: string) {}

  static async start(topic: string, readCommitted = true): Promise<CommittedWatch> {
    const groupId = uniqueName(`test-watch-${topic}`);
    const consumer = kafka('tracklane-test-watch').consumer({ groupId, readUncommitted: !readCommitted, maxWaitTimeInMs: 200 });
    const watch = new CommittedWatch(consumer, groupId);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const key = m.key?.toString() ?? '';
          watch.seen.set(key, (watch.seen.get(key) ?? 0) + 1);
        }
        watch.received += batch.messages.length;
      },
    });
    return watch;
  }

  /** Records received, duplicates included. */
  get count(): number {
    return this.received;
  }

  /** Keys that arrived more than once, with their extra copies summed. */
  get extraCopies(): number {
    return this.received - this.seen.size;
  }

  /**
   * Polls until `n` records arrived; throws with the count reached on timeout, or at once
   * when `failure` names a reason to stop waiting (e.g. the engine process exited).
   */
  async waitFor(n: number, timeoutMs: number, failure: () => string | undefined = () => undefined): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received < n) {
      const reason = failure();
      if (reason) throw new Error(`stopped waiting for ${n} records at ${this.received}: ${reason}`);
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${n} records, got ${this.received}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    const admin = kafka('tracklane-test-watch').admin();
    await admin.connect();
    await admin.deleteGroups([this.groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/**
 * Polls until the group has committed every input offset (all partitions at their high
 * watermark): after that the engine produces nothing more, so a final read is complete.
 */
export async function waitForInputCommitted(groupId: string, topic: string, timeoutMs: number): Promise<void> {
  const admin = kafka('tracklane-test-watch').admin();
  await admin.connect();
  try {
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      // A partition that never had a record has nothing to commit (offset -1, end 0).
      const behind = committed.partitions.filter((p) => p.offset !== ends.get(p.partition) && !(p.offset === '-1' && ends.get(p.partition) === '0'));
      if (behind.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`group ${groupId} still behind on ${topic}: ${behind.map((p) => `${p.partition}@${p.offset}/${ends.get(p.partition)}`).join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect();
  }
}

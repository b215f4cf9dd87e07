import type { KafkaMessage, Producer } from 'kafkajs';
import { kafka, uniqueName } from '../helpers/stack-env';
import type { PlannedRecord } from './stream';

// Kafka chores of the chaos run: a paced producer that survives a broker restart, the
// group's committed input (progress), and a reader that projects each record as it arrives
// (200,000 decoded records would not fit comfortably in memory whole).

export class PacedProducer {
  sent = 0;
  /** Sends that failed after kafkajs's own retries and were sent again (may add raw copies). */
  resends = 0;
  private producer?: Producer;

  constructor(private readonly topic: string, private readonly log: (line: string) => void) {}

  private async connected(): Promise<Producer> {
    if (!this.producer) {
      const producer = kafka('tracklane-chaos-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      this.producer = producer;
    }
    return this.producer;
  }

  /** Sends `records` in order, spread evenly over `durationMs` (all at once when 0). */
  async send(records: PlannedRecord[], durationMs = 0, chunk = 250): Promise<void> {
    const started = Date.now();
    for (let i = 0; i < records.length; ) {
      const due = durationMs > 0 ? Math.min(records.length, Math.ceil(((Date.now() - started) / durationMs) * records.length)) : records.length;
      if (due <= i) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const slice = records.slice(i, Math.min(due, i + chunk));
      try {
        const producer = await this.connected();
        await producer.send({ topic: this.topic, acks: -1, messages: slice.map((r) => ({ partition: r.partition, key: r.key, value: r.value })) });
        i += slice.length;
        this.sent += slice.length;
      } catch (err) {
        // The broker is restarting: kafkajs gave up. Start a fresh producer and send the same
        // records again; if the first attempt was written after all, the raw topic holds the
        // copies twice, which the ground truth (read back from the topic) accounts for.
        this.resends++;
        this.log(`producer: send failed (${(err as Error).message}); retrying with a new producer`);
        await this.producer?.disconnect().catch(() => undefined);
        this.producer = undefined;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }
}

/** Input records the group has committed, over all partitions (-1 when Kafka does not answer in time). */
export async function committedInput(group: string, topic: string, timeoutMs = 3_000): Promise<number> {
  const admin = kafka('tracklane-chaos-admin').admin();
  const work = (async () => {
    await admin.connect();
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return t.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  })();
  const timeout = new Promise<number>((r) => setTimeout(() => r(-1), timeoutMs).unref());
  try {
    return await Promise.race([work.catch(() => -1), timeout]);
  } finally {
    admin.disconnect().catch(() => undefined);
  }
}

/**
 * Polls until the group has committed every input offset (all partitions at their end).
 * Unlike the integration helper it rides out a broker that is still coming back (the
 * coordinator "is loading" for a while after a restart): errors are retried until timeoutMs.
 */
export async function waitInputCommitted(group: string, topic: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    const admin = kafka('tracklane-chaos-admin').admin();
    try {
      await admin.connect();
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const behind = committed.partitions.filter((p) => p.offset !== ends.get(p.partition));
      if (behind.length === 0) return;
      last = behind.map((p) => `${p.partition}@${p.offset}/${ends.get(p.partition)}`).join(', ');
    } catch (err) {
      last = (err as Error).message;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error(`group ${group} has not committed all of ${topic} after ${timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Deletes consumer groups; a group whose members are still leaving is tried again for up to 30 s. */
export async function deleteGroups(groups: string[]): Promise<string[]> {
  const admin = kafka('tracklane-chaos-admin').admin();
  let left = [...groups];
  try {
    await admin.connect();
    for (let attempt = 0; left.length > 0 && attempt < 30; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 1_000));
      const results = await admin.deleteGroups(left).catch((err: { groups?: Array<{ groupId: string; errorCode: number }> }) => err.groups ?? left.map((groupId) => ({ groupId, errorCode: -1 })));
      // 69 GROUP_ID_NOT_FOUND: already gone.
      left = results.filter((r) => r.errorCode !== 0 && r.errorCode !== 69).map((r) => r.groupId);
    }
  } catch {
    // the broker is away: report the groups as left over
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  return left;
}

export interface ReadOptions {
  readCommitted: boolean;
  /** Keep reading until at least this many arrived (then stop after idleMs without news). */
  expected?: number;
  idleMs?: number;
  timeoutMs?: number;
}

/**
 * Reads a topic from the beginning in a fresh consumer group, calling `each` per record
 * (partition by partition in offset order). Returns how many records it saw.
 */
export async function readTopic(topic: string, o: ReadOptions, each: (m: KafkaMessage, partition: number) => Promise<void> | void): Promise<number> {
  const idleMs = o.idleMs ?? 3_000;
  const deadline = Date.now() + (o.timeoutMs ?? 180_000);
  const groupId = uniqueName(`chaos-read-${topic}`);
  const client = kafka('tracklane-chaos-reader');
  const consumer = client.consumer({ groupId, readUncommitted: !o.readCommitted, maxWaitTimeInMs: 200, maxBytesPerPartition: 4 * 1_048_576 });
  let n = 0;
  let last = Date.now();
  let joined = false;
  let failure: unknown;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    last = Date.now();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        try {
          for (const m of batch.messages) await each(m, batch.partition);
        } catch (err) {
          failure ??= err;
        }
        n += batch.messages.length;
        last = Date.now();
      },
    });
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      if (failure || Date.now() > deadline) break;
      if (joined && n >= (o.expected ?? 0) && Date.now() - last >= idleMs) break;
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
    const admin = client.admin();
    await admin.connect().then(() => admin.deleteGroups([groupId])).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  if (failure) throw failure;
  return n;
}

import crypto from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { UserError } from '../errors';
import { createKafka } from '../source/kafka';

export interface ReadOptions {
  topic: string;
  fromBeginning: boolean;
  readCommitted: boolean;
  /** Stop after this many records. */
  max?: number;
  /** Stop when no record arrived for this long. */
  idleMs: number;
  groupId?: string;
  onMessage(message: KafkaMessage, partition: number): Promise<void> | void;
}

/** Reads a topic with a throw-away consumer group until --max or the idle timeout. */
export async function readTopic(o: ReadOptions): Promise<number> {
  const kafka = createKafka('tracklane-reader');
  const admin = kafka.admin();
  await admin.connect();
  const exists = (await admin.listTopics()).includes(o.topic);
  await admin.disconnect();
  if (!exists) {
    throw new UserError(`topic ${o.topic} does not exist`, ['check the name, or run `tracklane init -t <topology>`']);
  }
  const groupId = o.groupId ?? `tracklane-reader-${crypto.randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: !o.readCommitted, maxWaitTimeInMs: 200 });
  let count = 0;
  let last = Date.now();
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: o.fromBeginning });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      if (o.max !== undefined && count >= o.max) return;
      count++;
      last = Date.now();
      await o.onMessage(message, partition);
      if (o.max !== undefined && count >= o.max) done();
    },
  });
  const timer = setInterval(() => {
    if (Date.now() - last >= o.idleMs) done();
  }, 100);
  await finished;
  clearInterval(timer);
  await consumer.disconnect();
  if (!o.groupId) {
    const cleanup = kafka.admin();
    await cleanup.connect();
    await cleanup.deleteGroups([groupId]).catch(() => undefined);
    await cleanup.disconnect();
  }
  return count;
}

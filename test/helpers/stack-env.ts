// Shared by the integration suites: where the real stack is (same env vars and defaults as
// the CLI, DESIGN.md section 3), unique names so tests never collide, and the few Kafka
// chores every suite repeats. `npm test` starts the stack (deploy/local/with-stack.sh).
import { randomBytes } from 'node:crypto';
import { Kafka, KafkaMessage, logLevel } from 'kafkajs';

export function brokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

export function registryUrl(): string {
  return process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
}

export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** `prefix-<time>-<random>`: a legal topic, group, transactional id or Redis key prefix. */
export function uniqueName(prefix: string): string {
  const safe = prefix.replace(/[^a-zA-Z0-9._-]/g, '-');
  return `${safe}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A kafkajs client for tests: quiet (kafkajs logs retries at ERROR; tests assert instead). */
export function kafka(clientId = 'tracklane-test'): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers(),
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200 },
  });
}

export async function createTopics(names: string[], partitions = 1): Promise<void> {
  const admin = kafka('tracklane-test-admin').admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes the topics that exist; missing ones are ignored so cleanup can run twice. */
export async function deleteTopics(names: string[]): Promise<void> {
  if (names.length === 0) return;
  const admin = kafka('tracklane-test-admin').admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = names.filter((n) => existing.has(n));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30000 });
  } finally {
    await admin.disconnect();
  }
}

/** A raw kafkajs message (key, value, headers as Buffers) plus where it was read. */
export type ConsumedMessage = KafkaMessage & { topic: string; partition: number };

export interface ConsumeAllOptions {
  /** true: only committed transactional records (what Tracklane's readers must use). */
  readCommitted: boolean;
  /** Keep waiting (up to timeoutMs) until at least this many records arrived. */
  expected?: number;
  /** Stop once nothing new arrived for this long (counted from the group join). Default 1500. */
  idleMs?: number;
  /** Hard stop; whatever arrived is returned. Default 60000. */
  timeoutMs?: number;
}

/**
 * Reads a topic from the beginning in a fresh consumer group and returns the raw kafkajs
 * messages (value bytes untouched), ordered by partition then offset. The group is deleted
 * afterwards.
 */
export async function consumeAll(topic: string, options: ConsumeAllOptions): Promise<ConsumedMessage[]> {
  const idleMs = options.idleMs ?? 1500;
  const timeoutMs = options.timeoutMs ?? 60000;
  const groupId = uniqueName(`test-consume-${topic}`);
  const client = kafka('tracklane-test-consumer');
  const consumer = client.consumer({
    groupId,
    readUncommitted: !options.readCommitted,
    maxWaitTimeInMs: 200,
    retry: { retries: 8, initialRetryTime: 200 },
  });
  const messages: ConsumedMessage[] = [];
  let lastActivity = Date.now();
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    lastActivity = Date.now();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic: t, partition, message }) => {
        messages.push({ ...message, topic: t, partition });
        lastActivity = Date.now();
      },
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (Date.now() >= deadline) break;
      const enough = options.expected === undefined || messages.length >= options.expected;
      if (joined && enough && Date.now() - lastActivity >= idleMs) break;
    }
  } finally {
    await consumer.disconnect();
  }
  const admin = client.admin();
  await admin.connect();
  try {
    await admin.deleteGroups([groupId]);
  } catch {
    // a group that never committed may already be gone; nothing to clean then
  } finally {
    await admin.disconnect();
  }
  return messages.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

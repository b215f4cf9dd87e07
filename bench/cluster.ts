// Kafka, registry and Redis chores of a bench run: topics in, topics out, reading outputs
// back for timestamps and latency samples, and leaving nothing behind.
import { randomBytes } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { registryOptionsFromEnv } from '../src/decode/registry';
import type { RedisClient } from '../src/state/redis';
import { deleteKeysWithPrefix } from '../src/state/scan';

export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function createTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true }));
}

/** Waits until `groupId` is Stable with a member, i.e. partitions are assigned. */
export async function waitForGroup(kafka: Kafka, groupId: string, timeoutMs = 60_000): Promise<void> {
  await withAdmin(kafka, async (a) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { groups } = await a.describeGroups([groupId]);
      if (groups[0]?.state === 'Stable' && groups[0].members.length > 0) return;
      if (Date.now() > deadline) throw new Error(`consumer group ${groupId} did not become Stable in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
}

export interface ReadBack {
  records: number;
  firstTs: number;
  lastTs: number;
  /** Output records per wall-clock second, from the first record's second. */
  perSecond: number[];
  /** Output timestamp - input timestamp of the sampled keys, ms. */
  latenciesMs: number[];
}

/**
 * Reads output topics from the beginning (read_committed) until `expected` records arrived
 * or nothing came for `idleMs`. Only timestamps and sampled keys are looked at.
 */
export async function readBack(kafka: Kafka, topics: string[], expected: number, samples: Map<string, number>, idleMs = 10_000): Promise<ReadBack> {
  const groupId = `tracklane-bench-read-${randomBytes(4).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxBytesPerPartition: 8 << 20, maxWaitTimeInMs: 100 });
  const r: ReadBack = { records: 0, firstTs: Infinity, lastTs: -Infinity, perSecond: [], latenciesMs: [] };
  const stamps: number[] = [];
  let last = Date.now();
  await consumer.connect();
  try {
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: 8,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const ts = Number(m.timestamp);
          stamps.push(ts);
          if (m.key) {
            const sent = samples.get(m.key.toString());
            if (sent !== undefined) r.latenciesMs.push(ts - sent);
          }
        }
        r.records += batch.messages.length;
        last = Date.now();
      },
    });
    while (r.records < expected && Date.now() - last < idleMs) await new Promise((res) => setTimeout(res, 100));
  } finally {
    await consumer.disconnect();
    await withAdmin(kafka, (a) => a.deleteGroups([groupId])).catch(() => undefined);
  }
  for (const ts of stamps) {
    if (ts < r.firstTs) r.firstTs = ts;
    if (ts > r.lastTs) r.lastTs = ts;
  }
  for (const ts of stamps) {
    const s = Math.floor((ts - r.firstTs) / 1000);
    r.perSecond[s] = (r.perSecond[s] ?? 0) + 1;
  }
  for (let i = 0; i < r.perSecond.length; i++) r.perSecond[i] ??= 0;
  return r;
}

/**
 * Sustained rate over the output: records after the first one, over the time between the
 * first and the last output record, scaled to input events (duplicates have no output).
 */
export function sustainedRate(rb: ReadBack, inputEvents: number): number | undefined {
  const seconds = (rb.lastTs - rb.firstTs) / 1000;
  if (rb.records < 2 || seconds <= 0) return undefined;
  return ((rb.records - 1) / seconds) * (inputEvents / rb.records);
}

/** Everything a run created; every step tolerates what is already gone. */
export interface Leftovers {
  topics: Set<string>;
  groups: Set<string>;
  subjects: Set<string>;
  redisPrefixes: Set<string>;
}

export function leftovers(): Leftovers {
  return { topics: new Set(), groups: new Set(), subjects: new Set(), redisPrefixes: new Set() };
}

export async function cleanUp(kafka: Kafka, redis: RedisClient | undefined, l: Leftovers): Promise<string[]> {
  const problems: string[] = [];
  await withAdmin(kafka, async (a) => {
    const existing = new Set(await a.listTopics());
    const topics = [...l.topics].filter((t) => existing.has(t));
    if (topics.length) await a.deleteTopics({ topics, timeout: 30_000 });
    if (l.groups.size) await a.deleteGroups([...l.groups]).catch(() => undefined);
  }).catch((err: Error) => problems.push(`topics: ${err.message}`));
  const { url } = registryOptionsFromEnv();
  for (const subject of l.subjects) {
    for (const q of ['', '?permanent=true']) {
      await fetch(`${url.replace(/\/$/, '')}/subjects/${encodeURIComponent(subject)}${q}`, { method: 'DELETE', signal: AbortSignal.timeout(5000) })
        .catch((err: Error) => problems.push(`subject ${subject}: ${err.message}`));
    }
  }
  if (redis) {
    for (const prefix of l.redisPrefixes) {
      try {
        await deleteKeysWithPrefix(redis, prefix);
      } catch (err) {
        problems.push(`redis ${prefix}: ${(err as Error).message}`);
      }
    }
  }
  return problems;
}

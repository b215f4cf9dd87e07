import { initTopology } from '../../src/engine/provision';
import { loadTopology } from '../../src/topology/load';
import { encodeV2, type Order } from './engine-fixture';
import { kafka } from './stack-env';
import { prng } from '../../src/demo/traffic';

// A raw stream with a known share of exact duplicates (same event_id, same bytes), laid out
// so that dedupe is exercised where it is hardest: next to the original (same chunk), far
// behind it on the same partition (a different batch, minutes later), and on another
// partition (processed concurrently, possibly before the original).

export interface StreamRecord { partition: number; key: string; value: Buffer }

export interface DuplicateStream {
  /** In send order; each record carries its partition. */
  records: StreamRecord[];
  /** Every event_id once: what the enriched topic must hold. */
  unique: string[];
  duplicates: { near: number; far: number; crossPartition: number };
}

export interface DuplicateStreamOptions {
  total: number;
  /** Share of `total` that are re-sends of an earlier event, e.g. 0.1. */
  duplicateRatio: number;
  partitions: number;
  /** Writer schema id of order-v2 under the raw subject. */
  schemaId: number;
  /** Prefix of the event ids (keeps Redis keys apart between runs on one topology). */
  idPrefix?: string;
  users?: number;
}


export function buildDuplicateStream(o: DuplicateStreamOptions): DuplicateStream {
  const random = prng(o.total * 31 + o.partitions);
  const dupCount = Math.round(o.total * o.duplicateRatio);
  const uniqueCount = o.total - dupCount;
  const users = o.users ?? 2_000;
  const prefix = o.idPrefix ?? 'ev';
  const start = Date.now() - 2 * 3_600_000;
  // Event times spread over two hours, so sessions both continue and split (gap 30m).
  const originals: Array<StreamRecord & { at: number }> = [];
  for (let i = 0; i < uniqueCount; i++) {
    const u = i % users;
    const order: Order = {
      event_id: `${prefix}-${i}`,
      ts: start + Math.floor((i / uniqueCount) * 7_000_000) + (u % 97) * 1_000,
      type: 'checkout',
      status: i % 17 === 0 ? 'error' : 'ok',
      region: ['eu', 'us', 'ap'][i % 3],
      duration_ms: i % 700,
      anonymous_id: `anon-${u}`,
      // A third of a user's events are logged in: identity links them, the rest resolve.
      user_id: i % 3 === 0 ? `user-${u}` : null,
    };
    originals.push({ partition: i % o.partitions, key: order.event_id, value: encodeV2(o.schemaId, order), at: i });
  }
  const placed: Array<StreamRecord & { at: number }> = [...originals];
  const duplicates = { near: 0, far: 0, crossPartition: 0 };
  // Distinct originals, spread over the whole stream.
  const step = uniqueCount / dupCount;
  for (let j = 0; j < dupCount; j++) {
    const orig = originals[Math.min(uniqueCount - 1, Math.floor(j * step + random() * step))];
    const kind = j % 3;
    if (kind === 0) {
      duplicates.near++;
      placed.push({ ...orig, at: orig.at + 0.5 + random() * 20 });
    } else if (kind === 1) {
      duplicates.far++;
      // At least a third of the stream later on the same partition (or at its very end).
      placed.push({ ...orig, at: Math.min(uniqueCount + j, orig.at + uniqueCount / 3 + random() * uniqueCount / 3) });
    } else {
      duplicates.crossPartition++;
      const partition = (orig.partition + 1 + Math.floor(random() * (o.partitions - 1))) % o.partitions;
      // Anywhere in the stream: on another partition the copy may well be read first.
      placed.push({ ...orig, partition, at: random() * uniqueCount });
    }
  }
  placed.sort((a, b) => a.at - b.at);
  return {
    records: placed.map(({ partition, key, value }) => ({ partition, key, value })),
    unique: originals.map((r) => r.key),
    duplicates,
  };
}

/** Sends the records in order (per partition order is kept: one request at a time). */
export async function produceStream(topic: string, records: StreamRecord[], chunk = 2_000): Promise<void> {
  const producer = kafka('tracklane-test-stream').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += chunk) {
      await producer.send({ topic, acks: -1, messages: records.slice(i, i + chunk).map((r) => ({ partition: r.partition, key: r.key, value: r.value })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * `initTopology`, retried: right after CreateTopics a busy KRaft broker may answer a metadata
 * request with UNKNOWN_TOPIC_OR_PARTITION, which kafkajs's waitForLeaders does not wait out
 * (it only waits on LEADER_NOT_AVAILABLE). init is idempotent, so running it again is safe.
 */
export async function initTopologyRetrying(file: string, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await initTopology(loadTopology(file));
      return;
    } catch (err) {
      if (attempt >= attempts || (err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

import { ConfigResourceTypes, type Admin, type Producer, type TopicMessages } from 'kafkajs';
import { BATCH_OVERHEAD, MAX_CHUNK_BYTES, type Item } from './chunks';

const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

export interface Limits {
  /** Bytes of records per request (the smallest source topic limit, at most MAX_CHUNK_BYTES). */
  chunkBytes: number;
  /** Per source topic: the largest single record it takes (max.message.bytes less a batch's framing). */
  recordBytes: Map<string, number>;
}

/** Reads each source topic's max.message.bytes (the broker default when it cannot be read). */
export async function topicLimits(admin: Admin, topics: string[]): Promise<Limits> {
  const recordBytes = new Map<string, number>();
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })),
  });
  for (const topic of topics) {
    const entry = described.resources.find((r) => r.resourceName === topic)?.configEntries.find((c) => c.configName === 'max.message.bytes');
    const max = Number(entry?.configValue ?? BROKER_DEFAULT_MAX_MESSAGE_BYTES);
    recordBytes.set(topic, (Number.isFinite(max) && max > 0 ? max : BROKER_DEFAULT_MAX_MESSAGE_BYTES) - BATCH_OVERHEAD);
  }
  return { chunkBytes: Math.min(MAX_CHUNK_BYTES, ...recordBytes.values()), recordBytes };
}

/**
 * Sends a chunk's records with acks=all and resolves once all are acknowledged. Returns the
 * records that cannot be sent, with why: larger than their topic takes (checked before
 * sending, and again if the broker refuses a chunk as too large: then it is halved until the
 * record it refuses is alone). Any other error rejects: nothing of the chunk counts as sent.
 */
export async function sendChunk<T>(producer: Producer, chunk: readonly Item<T>[], limits: Limits): Promise<Map<Item<T>, string>> {
  const failures = new Map<Item<T>, string>();
  const toSend: Item<T>[] = [];
  for (const item of chunk) {
    if (!item.send) continue;
    const limit = limits.recordBytes.get(item.send.topic)!;
    if (item.send.bytes > limit) {
      failures.set(item, `the record has ${item.send.bytes} bytes; ${item.send.topic} takes at most ${limit} (max.message.bytes ${limit + BATCH_OVERHEAD})`);
    } else {
      toSend.push(item);
    }
  }
  await sendOrSplit(producer, toSend, failures);
  return failures;
}

async function sendOrSplit<T>(producer: Producer, items: Item<T>[], failures: Map<Item<T>, string>): Promise<void> {
  if (items.length === 0) return;
  try {
    await producer.sendBatch({ acks: -1, topicMessages: byTopic(items) });
  } catch (err) {
    if (!isTooLarge(err)) throw err;
    if (items.length === 1) {
      failures.set(items[0], `the broker refused the record as too large: ${(err as Error).message}`);
      return;
    }
    const half = Math.ceil(items.length / 2);
    await sendOrSplit(producer, items.slice(0, half), failures);
    await sendOrSplit(producer, items.slice(half), failures);
  }
}

function byTopic<T>(items: Item<T>[]): TopicMessages[] {
  const topics = new Map<string, TopicMessages>();
  for (const { send } of items) {
    let t = topics.get(send!.topic);
    if (!t) topics.set(send!.topic, (t = { topic: send!.topic, messages: [] }));
    t.messages.push(send!.message);
  }
  return [...topics.values()];
}

/** kafkajs wraps the broker's error (in KafkaJSNonRetriableError, sometimes twice). */
function isTooLarge(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE') return true;
  }
  return false;
}

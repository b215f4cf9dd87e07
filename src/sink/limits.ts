import type { Admin, ConfigResourceTypes } from 'kafkajs';
import { UserError } from '../errors';
import type { Topology } from '../topology/types';
import type { OutputMessage } from './output';

// Kafka refuses a record batch above the topic's max.message.bytes (broker default
// 1,048,588), and kafkajs puts all of a request's records for one partition into one batch.
// Delivery therefore cuts its sends by size, and a single record that can never fit becomes
// an OVERSIZE dead letter instead of a send that fails forever.

/** Kafka's default max.message.bytes (message.max.bytes of the broker). */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
/** Upper bound of one send request, as the Java producer's max.request.size (1 MiB) less headroom. */
export const MAX_REQUEST_BYTES = 1_000_000;
/** Record batch header (magic v2). */
export const BATCH_OVERHEAD_BYTES = 61;
/** Per record: length, attributes, timestamp and offset deltas, key/value/header lengths (varints, generous). */
const RECORD_OVERHEAD_BYTES = 24;

/** Each output topic's max.message.bytes. */
export type TopicLimits = ReadonlyMap<string, number>;

/** Bytes a record takes inside a record batch (uncompressed), a safe over-estimate. */
export function recordBytes(m: Pick<OutputMessage, 'key' | 'value' | 'headers'>): number {
  let n = RECORD_OVERHEAD_BYTES + m.value.length + (m.key === null ? 0 : Buffer.byteLength(m.key));
  for (const [name, value] of Object.entries(m.headers ?? {})) n += 8 + Buffer.byteLength(name) + Buffer.byteLength(value);
  return n;
}

/** True when the record alone, in a batch of its own, is above its topic's limit. */
export function tooLargeForTopic(m: OutputMessage, limits: TopicLimits): boolean {
  return BATCH_OVERHEAD_BYTES + recordBytes(m) > (limits.get(m.topic) ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES);
}

/**
 * Cuts a delivery's records into sends that stay under MAX_REQUEST_BYTES and under every
 * topic's limit, keeping their order (a partition's records stay in order across sends).
 * A record bigger than that on its own is sent alone: it fits its topic (see tooLargeForTopic).
 */
export function splitBySize(messages: OutputMessage[], limits: TopicLimits): OutputMessage[][] {
  const sends: OutputMessage[][] = [];
  let current: OutputMessage[] = [];
  let bytes = 0;
  let budget = MAX_REQUEST_BYTES;
  for (const m of messages) {
    const size = recordBytes(m);
    const limit = Math.min(MAX_REQUEST_BYTES, (limits.get(m.topic) ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES) - BATCH_OVERHEAD_BYTES);
    if (current.length > 0 && (bytes + size > budget || bytes + size > limit)) {
      sends.push(current);
      current = [];
      bytes = 0;
      budget = MAX_REQUEST_BYTES;
    }
    current.push(m);
    bytes += size;
    budget = Math.min(budget, limit);
  }
  if (current.length > 0) sends.push(current);
  return sends;
}

/** Every output topic a topology writes to. */
export function outputTopics(topology: Topology): string[] {
  const outputs = Object.values(topology.outputs) as Array<{ topic: string } | undefined>;
  return [...new Set(outputs.filter((o): o is { topic: string } => !!o?.topic).map((o) => o.topic))];
}

/** Reads max.message.bytes of the given topics once (at start); a topic without it gets Kafka's default. */
export async function readTopicLimits(admin: Admin, topics: string[]): Promise<TopicLimits> {
  const limits = new Map<string, number>();
  if (topics.length === 0) return limits;
  const TOPIC = 2 as ConfigResourceTypes; // kafkajs's ConfigResourceTypes.TOPIC
  const { resources } = await admin
    .describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: TOPIC, name, configNames: ['max.message.bytes'] })),
    })
    .catch((err: { type?: string }) => {
      // On a cluster with an authorizer the engine's principal needs DESCRIBE_CONFIGS on its
      // outputs; say which grant is missing instead of kafkajs's bare refusal.
      if (err?.type !== 'TOPIC_AUTHORIZATION_FAILED') throw err;
      throw new UserError(`Kafka refused to describe the output topics' configs (max.message.bytes): grant DESCRIBE_CONFIGS on ${topics.join(', ')} to the engine's principal (docs/security.md)`);
    });
  for (const r of resources) {
    const entry = r.configEntries.find((e) => e.configName === 'max.message.bytes');
    const value = Number(entry?.configValue);
    limits.set(r.resourceName, Number.isFinite(value) && value > 0 ? value : KAFKA_DEFAULT_MAX_MESSAGE_BYTES);
  }
  return limits;
}

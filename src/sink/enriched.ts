import { DataError } from '../errors';
import type { PipelineEvent } from '../pipeline/event';
import type { OutputMessage } from './output';

/**
 * Serializes an enriched record with the derived schema (Avro or JSON Schema) into the
 * Confluent wire format; throws when it does not fit.
 */
export type EnrichedEncoder = (record: Record<string, unknown>) => Buffer;

/** The enriched record: the (pseudonymized) source record plus `tracklane`, keyed by idempotency key. */
export function enrichedMessage(ev: PipelineEvent, topic: string, encode: EnrichedEncoder): OutputMessage {
  let value: Buffer;
  try {
    value = encode({ ...ev.record, tracklane: ev.meta });
  } catch (err) {
    throw new DataError('ENRICHMENT_FAILED', `enriched record does not fit the derived schema: ${(err as Error).message}`);
  }
  return { topic, key: ev.idempotencyKey!, value, headers: ev.headers };
}

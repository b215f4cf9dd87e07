import type avro from 'avsc';
import { DataError } from '../errors';
import type { PipelineEvent } from '../pipeline/event';
import { writeWireFrame } from '../decode/wire';
import type { OutputMessage } from './output';

/** The enriched record: the (pseudonymized) source record plus `tracklane`, keyed by idempotency key. */
export function enrichedMessage(ev: PipelineEvent, topic: string, type: avro.Type, schemaId: number): OutputMessage {
  let payload: Buffer;
  try {
    payload = type.toBuffer({ ...ev.record, tracklane: ev.meta });
  } catch (err) {
    throw new DataError('ENRICHMENT_FAILED', `enriched record does not fit the derived schema: ${(err as Error).message}`);
  }
  return { topic, key: ev.idempotencyKey!, value: writeWireFrame(schemaId, payload), headers: ev.headers };
}

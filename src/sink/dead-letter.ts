import avro from 'avsc';
import { readPackageSchema } from '../package-root';
import type { PipelineEvent } from '../pipeline/event';
import type { Topology } from '../topology/types';
import { writeWireFrame } from '../decode/wire';
import type { OutputMessage } from './output';
import { REPLAYED_FROM_HEADER } from '../dedupe/replay-header';

export const deadLetterSchema = readPackageSchema('schemas/tracklane/DeadLetter.avsc');
export const deadLetterType = avro.Type.forSchema(deadLetterSchema as avro.Schema);

export interface DeadLetter {
  reason: string;
  message: string;
  path: string | null;
  stage: string;
  source_topic: string;
  source_partition: number;
  source_offset: number;
  source_timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  pipeline: string;
  pipeline_version: number;
  failed_at: number;
}

/**
 * A dead letter's Kafka record must fit the dead-letter topic's max.message.bytes (Kafka's
 * default is 1,048,588), or the batch could never be delivered and its partition would stall.
 * A dead letter is a little larger than the record it carries, so an input near the limit
 * would not fit. Above this size the original headers, then value, then key are left out;
 * the message says so, and the original stays in the source topic at source_offset.
 */
export const MAX_DEAD_LETTER_BYTES = 1_000_000;

/** One dead letter per bad event, carrying the original key, value and headers untouched (when they fit). */
export function deadLetterMessage(ev: PipelineEvent, topology: Topology, schemaId: number, now: number): OutputMessage {
  const failure = ev.failure!;
  // A replayed event that fails again names the dead letter it was replayed from (its
  // headers keep tracklane-replayed-from too), so `replay` can be followed back.
  const replayOf = ev.headers[REPLAYED_FROM_HEADER];
  const letter: DeadLetter = {
    reason: failure.reason,
    message: failure.message.slice(0, 2000) + (replayOf ? ` (replay of dead letter ${replayOf.toString().slice(0, 300)})` : ''),
    path: failure.path ?? null,
    stage: failure.stage,
    source_topic: ev.topic,
    source_partition: ev.partition,
    source_offset: Number(ev.offset),
    source_timestamp: ev.timestamp,
    key: ev.key,
    value: ev.value,
    headers: ev.headers,
    pipeline: topology.name,
    pipeline_version: topology.version,
    failed_at: now,
  };
  let payload = deadLetterType.toBuffer(letter);
  const original = payload.length + (letter.key?.length ?? 0);
  if (original > MAX_DEAD_LETTER_BYTES) {
    const left: string[] = [];
    // Room for the note added to the message below.
    for (const part of ['headers', 'value', 'key'] as const) {
      if (deadLetterType.toBuffer(letter).length + (letter.key?.length ?? 0) <= MAX_DEAD_LETTER_BYTES - 2_000) break;
      if (part === 'headers') letter.headers = {};
      else letter[part] = null;
      left.push(part);
    }
    letter.message = `${letter.message.slice(0, 1000)} [original ${left.join(', ')} not kept: the dead letter would have had ${original} bytes, above ${MAX_DEAD_LETTER_BYTES}; the record is in the source topic at source_offset]`;
    payload = deadLetterType.toBuffer(letter);
  }
  return {
    topic: topology.outputs.deadLetter.topic,
    key: letter.key,
    value: writeWireFrame(schemaId, payload),
    headers: { 'tracklane-reason': failure.reason },
  };
}

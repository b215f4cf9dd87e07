import avro from 'avsc';
import { readPackageSchema } from '../package-root';
import type { PipelineEvent } from '../pipeline/event';
import type { Topology } from '../topology/types';
import { writeWireFrame } from '../decode/wire';
import type { OutputMessage } from './output';

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

/** One dead letter per bad event, carrying the original key, value and headers untouched. */
export function deadLetterMessage(ev: PipelineEvent, topology: Topology, schemaId: number, now: number): OutputMessage {
  const failure = ev.failure!;
  const letter: DeadLetter = {
    reason: failure.reason,
    message: failure.message.slice(0, 2000),
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
  return {
    topic: topology.outputs.deadLetter.topic,
    key: ev.key,
    value: writeWireFrame(schemaId, deadLetterType.toBuffer(letter)),
    headers: { 'tracklane-reason': failure.reason },
  };
}

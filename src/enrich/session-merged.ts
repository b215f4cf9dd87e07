import avro from 'avsc';
import { readPackageSchema } from '../package-root';
import { writeAvroFrame } from '../decode/wire';
import type { OutputMessage } from '../pipeline/event';

/** tracklane.SessionMerged (DESIGN.md section 6): metrics topic, key `session|<session_id>`. */
export interface SessionMerged {
  topology: string;
  key: string;
  merged_ids: string[];
  session_id: string;
  start: number;
  end: number;
  emitted_at: number;
}

export const sessionMergedSchema = readPackageSchema('schemas/tracklane/SessionMerged.avsc');
export const sessionMergedType = avro.Type.forSchema(sessionMergedSchema as avro.Schema);

/** Where merge records go: the metrics topic and the registry id of the schema. */
export interface SessionMergedTarget {
  topic: string;
  schemaId: number;
}

export function sessionMergedMessage(record: SessionMerged, target: SessionMergedTarget): OutputMessage {
  return { topic: target.topic, key: `session|${record.session_id}`, value: writeAvroFrame(target.schemaId, sessionMergedType, record) };
}

/**
 * Registers tracklane.SessionMerged for the metrics topic. Its subject is
 * `<topic>-tracklane.SessionMerged` (TopicRecordNameStrategy): the metrics topic already
 * carries tracklane.SliWindow under `<topic>-value`, whose compatibility rule would refuse a
 * second record type. Readers decode by the schema id in each record's frame either way.
 */
export async function registerSessionMerged(
  registry: { register(subject: string, schema: string): Promise<number> },
  metricsTopic: string,
): Promise<SessionMergedTarget> {
  const schemaId = await registry.register(`${metricsTopic}-tracklane.SessionMerged`, JSON.stringify(sessionMergedSchema));
  return { topic: metricsTopic, schemaId };
}

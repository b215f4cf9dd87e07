import avro from 'avsc';
import type { Registry } from '../decode/registry';
import type { ReaderSchemas } from '../decode/reader';
import { deriveEnrichedSchema } from '../enrich/derive-schema';
import { UserError } from '../errors';
import type { Topology } from '../topology/types';
import { deadLetterSchema } from './dead-letter';

export interface OutputSchemas {
  /** Per source name: the derived enriched schema's registry id and avsc type. */
  enriched: Map<string, { id: number; type: avro.Type }>;
  deadLetterId: number;
}

/** Fields a topology treats as personal data: pseudonymized ones, and what consent strips. */
export function personalFields(topology: Topology): { pseudonymized: string[]; strippable: string[] } {
  const pseudonymized = topology.enrich.flatMap((s) => (s.kind === 'pseudonymize' ? s.fields : []));
  const strippable = topology.enrich.flatMap((s) => (s.kind === 'consent' ? s.fields ?? pseudonymized : []));
  return { pseudonymized, strippable };
}

export function subjectOf(topic: string): string {
  return `${topic}-value`;
}

/** Registers the output schemas (idempotent: the registry returns the existing id). */
export async function registerOutputSchemas(registry: Registry, topology: Topology, readers: ReaderSchemas): Promise<OutputSchemas> {
  const { pseudonymized, strippable } = personalFields(topology);
  const enriched = new Map<string, { id: number; type: avro.Type }>();
  for (const source of topology.sources) {
    const reader = readers.get(source);
    if (reader.kind !== 'avro') {
      throw new UserError(`source ${source.name}: enriched output is Avro and is derived from an Avro source schema; JSON Schema sources are not supported yet`);
    }
    const schema = deriveEnrichedSchema(reader.schema, pseudonymized, strippable);
    const id = await registry.register(subjectOf(topology.outputs.enriched.topic), JSON.stringify(schema));
    enriched.set(source.name, { id, type: avro.Type.forSchema(schema as avro.Schema) });
  }
  const deadLetterId = await registry.register(subjectOf(topology.outputs.deadLetter.topic), JSON.stringify(deadLetterSchema));
  return { enriched, deadLetterId };
}

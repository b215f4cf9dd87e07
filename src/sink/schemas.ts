import avro from 'avsc';
import type { Registry } from '../decode/registry';
import { writeAvroFrame, writeWireFrame } from '../decode/wire';
import type { ReaderSchemas } from '../decode/reader';
import Ajv from 'ajv';
import { deriveEnrichedJsonSchema, deriveEnrichedSchema } from '../enrich/derive-schema';
import type { EnrichedEncoder } from './enriched';
import { personalFields } from '../topology/personal';
import type { Topology } from '../topology/types';
import { deadLetterSchema } from './dead-letter';

export interface OutputSchemas {
  /** Per source name: the derived enriched schema's registry id and its encoder. */
  enriched: Map<string, { id: number; encode: EnrichedEncoder }>;
  deadLetterId: number;
}

export { personalFields };

export function subjectOf(topic: string): string {
  return `${topic}-value`;
}

/** Registers the output schemas (idempotent: the registry returns the existing id). */
export async function registerOutputSchemas(registry: Registry, topology: Topology, readers: ReaderSchemas): Promise<OutputSchemas> {
  const { pseudonymized, strippable } = personalFields(topology);
  const enriched = new Map<string, { id: number; encode: EnrichedEncoder }>();
  const subject = subjectOf(topology.outputs.enriched.topic);
  for (const source of topology.sources) {
    const reader = readers.get(source);
    if (reader.kind === 'avro') {
      const schema = deriveEnrichedSchema(reader.schema, pseudonymized, strippable);
      const type = avro.Type.forSchema(schema as avro.Schema);
      const id = await registry.register(subject, JSON.stringify(schema));
      enriched.set(source.name, { id, encode: (record) => writeAvroFrame(id, type, record) });
    } else {
      // A JSON Schema source stays JSON: the derived schema allows the pseudonyms and nulls.
      const schema = deriveEnrichedJsonSchema(reader.schema, pseudonymized, strippable);
      const validate = new Ajv({ strict: false }).compile(schema);
      const id = await registry.register(subject, JSON.stringify(schema), 'json');
      enriched.set(source.name, {
        id,
        encode: (record) => {
          const plain = JSON.parse(JSON.stringify(record));
          if (!validate(plain)) throw new Error(`${validate.errors?.[0]?.instancePath || '/'} ${validate.errors?.[0]?.message ?? 'invalid'}`);
          return writeWireFrame(id, Buffer.from(JSON.stringify(plain)));
        },
      });
    }
  }
  const deadLetterId = await registry.register(subjectOf(topology.outputs.deadLetter.topic), JSON.stringify(deadLetterSchema));
  return { enriched, deadLetterId };
}

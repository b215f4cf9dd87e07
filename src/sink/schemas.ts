import avro from 'avsc';
import type { Registry } from '../decode/registry';
import { writeAvroFrame, writeWireFrame } from '../decode/wire';
import type { ReaderSchema, ReaderSchemas } from '../decode/reader';
import Ajv from 'ajv';
import { deriveEnrichedJsonSchema, deriveEnrichedSchema } from '../enrich/derive-schema';
import type { EnrichedEncoder } from './enriched';
import { personalFields } from '../topology/personal';
import type { Topology } from '../topology/types';
import { deadLetterSchema } from './dead-letter';

export interface OutputSchemas {
  /**
   * Per source name: the derived enriched schema's registry id and its encoder. Replaced when
   * the source's reader schema moves to a newer version; read it at encoding time.
   */
  enriched: Map<string, { id: number; encode: EnrichedEncoder }>;
  deadLetterId: number;
}

export { personalFields };

export function subjectOf(topic: string): string {
  return `${topic}-value`;
}

type EnrichedTarget = { id: number; encode: EnrichedEncoder };

/**
 * Registers the output schemas (idempotent: the registry returns the existing id). When a
 * source adopts a newer reader schema, its enriched schema is re-derived and registered
 * before the switch; the new fields have defaults, so the enriched subject stays BACKWARD
 * compatible, and engines doing this at once register the same schema.
 */
export async function registerOutputSchemas(registry: Registry, topology: Topology, readers: ReaderSchemas): Promise<OutputSchemas> {
  const personal = personalFields(topology);
  const subject = subjectOf(topology.outputs.enriched.topic);
  const enriched = new Map<string, EnrichedTarget>();
  for (const source of topology.sources) {
    enriched.set(source.name, await registerEnriched(registry, subject, readers.get(source), personal));
  }
  readers.onChange(async (source, next) => {
    const target = await registerEnriched(registry, subject, next, personal);
    return () => enriched.set(source.name, target);
  });
  const deadLetterId = await registry.register(subjectOf(topology.outputs.deadLetter.topic), JSON.stringify(deadLetterSchema));
  return { enriched, deadLetterId };
}

async function registerEnriched(
  registry: Registry,
  subject: string,
  reader: ReaderSchema,
  { pseudonymized, strippable }: { pseudonymized: string[]; strippable: string[] },
): Promise<EnrichedTarget> {
  if (reader.kind === 'avro') {
    const schema = deriveEnrichedSchema(reader.schema, pseudonymized, strippable);
    const type = avro.Type.forSchema(schema as avro.Schema);
    const id = await registry.register(subject, JSON.stringify(schema));
    // Fields missing from a record take their defaults: a record decoded by a batch that was
    // still on the previous reader encodes the same as if it had been read with this one.
    return { id, encode: (record) => writeAvroFrame(id, type, record) };
  }
  // A JSON Schema source stays JSON: the derived schema allows the pseudonyms and nulls.
  const schema = deriveEnrichedJsonSchema(reader.schema, pseudonymized, strippable);
  const validate = new Ajv({ strict: false }).compile(schema);
  const id = await registry.register(subject, JSON.stringify(schema), 'json');
  return {
    id,
    encode: (record) => {
      const plain = JSON.parse(JSON.stringify(record));
      if (!validate(plain)) throw new Error(`${validate.errors?.[0]?.instancePath || '/'} ${validate.errors?.[0]?.message ?? 'invalid'}`);
      return writeWireFrame(id, Buffer.from(JSON.stringify(plain)));
    },
  };
}

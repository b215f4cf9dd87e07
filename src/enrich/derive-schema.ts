import type avro from 'avsc';
import { readPackageSchema } from '../package-root';

type AvroField = { name: string; type: unknown; default?: unknown; doc?: string; [k: string]: unknown };
type AvroRecord = { type: 'record'; name: string; namespace?: string; fields: AvroField[]; [k: string]: unknown };

function isNullable(type: unknown): boolean {
  return Array.isArray(type) && type.includes('null');
}

/**
 * The enriched event's schema, derived from the source's reader schema: pseudonymized
 * fields become nullable strings (they hold `kid:hex`), fields consent may strip become
 * nullable, and a `tracklane` record is appended. Named `<Name>Enriched` in the same
 * namespace so it never collides with the source subject's record.
 */
export function deriveEnrichedSchema(source: avro.Schema, pseudonymized: readonly string[], strippable: readonly string[]): AvroRecord {
  const record = source as unknown as AvroRecord;
  if (typeof record !== 'object' || record.type !== 'record') throw new Error('a source schema must be an Avro record');
  const fields = record.fields.map((field): AvroField => {
    if (pseudonymized.includes(field.name)) {
      return { ...field, type: ['null', 'string'], default: null };
    }
    if (strippable.includes(field.name) && !isNullable(field.type)) {
      return { ...field, type: ['null', field.type], default: null };
    }
    if (strippable.includes(field.name) && Array.isArray(field.type) && field.type[0] !== 'null') {
      // A union's default must match its first branch: put null first so default null is valid.
      return { ...field, type: ['null', ...field.type.filter((t) => t !== 'null')], default: null };
    }
    return field;
  });
  if (fields.some((f) => f.name === 'tracklane')) throw new Error('the source schema already has a field named tracklane');
  fields.push({ name: 'tracklane', type: readPackageSchema('schemas/tracklane/Enrichment.avsc') });
  const { fields: _drop, ...rest } = record;
  return { ...rest, name: `${record.name.split('.').pop()}Enriched`, namespace: record.namespace ?? namespaceOf(record.name), fields };
}

function namespaceOf(fullName: string): string | undefined {
  const at = fullName.lastIndexOf('.');
  return at > 0 ? fullName.slice(0, at) : undefined;
}

type JsonSchema = { properties?: Record<string, unknown>; [k: string]: unknown };

/**
 * The enriched schema of a JSON Schema source: pseudonymized fields hold `kid:hex` strings,
 * strippable fields may be null, and `tracklane` is an object (DESIGN.md section 6).
 */
export function deriveEnrichedJsonSchema(source: Record<string, unknown>, pseudonymized: readonly string[], strippable: readonly string[]): JsonSchema {
  const schema = JSON.parse(JSON.stringify(source)) as JsonSchema;
  const properties = { ...(schema.properties ?? {}) };
  for (const field of pseudonymized) properties[field] = { type: ['string', 'null'] };
  for (const field of strippable) {
    if (!pseudonymized.includes(field) && properties[field]) properties[field] = { anyOf: [properties[field], { type: 'null' }] };
  }
  properties.tracklane = { type: 'object', required: ['correlation_id', 'event_time', 'source', 'pipeline', 'steps'] };
  return { ...schema, properties, title: `${String(schema.title ?? 'Event')} (enriched)` };
}

import fs from 'node:fs';
import avro from 'avsc';
import Ajv from 'ajv';
import { fromPlainJson } from '../decode/plain-json';
import type { Registry } from '../decode/registry';
import { writeAvroFrame, writeWireFrame } from '../decode/wire';
import { DataError, UserError } from '../errors';

/** Plain JSON event -> Confluent wire-format bytes under the subject's latest schema. */
export interface EventEncoder {
  readonly schemaId: number;
  readonly version: number;
  /** Top-level field names, so the tracker only adds defaults the schema can hold. */
  readonly fields: ReadonlySet<string> | undefined;
  encode(event: Record<string, unknown>): Buffer;
}

/**
 * Loads the latest version of `subject`. The schema is fixed for the encoder's lifetime:
 * register the new version before deploying producers that need it (their new trackers
 * pick it up).
 */
export async function loadEncoder(registry: Registry, subject: string): Promise<EventEncoder> {
  const latest = await registry.latest(subject);
  if (!latest) throw new UserError(`schema subject ${subject} is not registered`, ['run `tracklane init -t <topology>` (it registers the source schema), or register it yourself']);
  const schema = JSON.parse(latest.schema);
  const where = `${subject} v${latest.version}`;
  return latest.schemaType === 'JSON' ? jsonEncoder(schema, latest.id, latest.version, where) : avroEncoder(schema, latest.id, latest.version, where);
}

/**
 * An encoder over a schema given in code or a file, for the memory tracker: the same checks
 * and messages as the registry's schema, with schema id 0. A string is a file path; a parsed
 * object is JSON Schema when it says so (`$schema`, or `type: object`), Avro otherwise.
 */
export function localEncoder(schema: string | avro.Schema | avro.Type | Record<string, unknown>): EventEncoder {
  if (schema instanceof avro.Type) return avroEncoder(schema.schema({ exportAttrs: true }), 0, 0, 'the given schema');
  let parsed: unknown = schema;
  let where = 'the given schema';
  if (typeof schema === 'string') {
    where = `schema file ${schema}`;
    try {
      parsed = JSON.parse(fs.readFileSync(schema, 'utf8'));
    } catch (err) {
      throw new UserError(`createTracker: ${where} cannot be read: ${(err as Error).message}`);
    }
  }
  const s = parsed as Record<string, unknown>;
  if (s && typeof s === 'object' && !Array.isArray(s) && ('$schema' in s || s.type === 'object')) return jsonEncoder(s, 0, 0, where);
  try {
    avro.Type.forSchema(parsed as avro.Schema);
  } catch (err) {
    throw new UserError(`createTracker: ${where} is not a valid Avro schema: ${(err as Error).message}`);
  }
  return avroEncoder(parsed as avro.Schema, 0, 0, where);
}

function avroEncoder(schema: avro.Schema, schemaId: number, version: number, where: string): EventEncoder {
  const type = avro.Type.forSchema(schema);
  const fields = type instanceof avro.types.RecordType ? new Set(type.fields.map((f) => f.name)) : undefined;
  return {
    schemaId,
    version,
    fields,
    encode(event) {
      // A field the schema does not know would be dropped without a word: refuse it, it is
      // most often a typo (`regoin`) or a producer ahead of its registered schema.
      const unknown = fields ? Object.keys(event).filter((k) => !fields.has(k) && event[k] !== undefined) : [];
      if (unknown.length) throw misfit(where, `/${unknown[0]}`, `field "${unknown[0]}" is not in the schema${unknown.length > 1 ? ` (nor ${unknown.slice(1).map((u) => `"${u}"`).join(', ')})` : ''}`);
      let value: unknown;
      try {
        value = fromPlainJson(schema, event);
      } catch (err) {
        if (err instanceof DataError) throw misfit(where, err.path ?? '/', `field "${fieldName(err.path)}": ${err.message.replace(/^[^:]*: /, '')}`);
        throw err;
      }
      let first: { path: string[]; value: unknown; type: avro.Type } | undefined;
      const ok = type.isValid(value, { errorHook: (path, any, t) => { first ??= { path, value: any, type: t }; } });
      if (!ok && first) {
        const pointer = '/' + first.path.join('/');
        const name = first.path.join('.') || '(event)';
        const why = first.value === undefined ? 'is missing and has no default' : `expects ${describe(first.type)}, got ${JSON.stringify(first.value) ?? String(first.value)}`;
        throw misfit(where, pointer, `field "${name}" ${why}`);
      }
      return writeAvroFrame(schemaId, type, value);
    },
  };
}

function jsonEncoder(schema: Record<string, unknown>, schemaId: number, version: number, where: string): EventEncoder {
  const validate = new Ajv({ allErrors: false, strict: false }).compile(schema);
  const props = schema.properties;
  const fields = props && typeof props === 'object' ? new Set(Object.keys(props)) : undefined;
  return {
    schemaId,
    version,
    fields,
    encode(event) {
      if (!validate(event)) {
        const e = validate.errors?.[0];
        const extra = e?.params && 'additionalProperty' in e.params ? `/${String(e.params.additionalProperty)}` : '';
        const missing = e?.params && 'missingProperty' in e.params ? `/${String(e.params.missingProperty)}` : '';
        const pointer = (e?.instancePath ?? '') + (extra || missing) || '/';
        throw misfit(where, pointer, `field "${fieldName(pointer)}" ${e?.message ?? 'is invalid'}`);
      }
      return writeWireFrame(schemaId, Buffer.from(JSON.stringify(event)));
    },
  };
}

function misfit(where: string, pointer: string, detail: string): DataError {
  return new DataError('VALIDATION_FAILED', `event does not fit ${where}: ${detail}`, pointer);
}

function fieldName(pointer: string | undefined): string {
  return (pointer ?? '').split('/').filter(Boolean).join('.') || '(event)';
}

function describe(t: avro.Type): string {
  if (t instanceof avro.types.UnwrappedUnionType || t instanceof avro.types.WrappedUnionType) return t.types.map(describe).join(' or ');
  return t.typeName === 'record' || t.typeName === 'enum' || t.typeName === 'fixed' ? `${t.typeName} ${t.name ?? ''}`.trim() : t.typeName;
}

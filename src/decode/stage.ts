import type avro from 'avsc';
import { DataError } from '../errors';
import type { PipelineEvent, Stage } from '../pipeline/event';
import { fail, isLive } from '../pipeline/event';
import type { SourceSpec } from '../topology/types';
import { readWireFrame } from './wire';
import type { Registry, WriterSchema } from './registry';
import { ReaderSchemas } from './reader';

/**
 * Decode: Confluent wire frame -> writer schema by id (cached) -> value read with the
 * topology's reader schema, so data written with an older compatible version arrives in the
 * current shape. Bad values are marked with their reason; registry outages throw.
 */
export function createDecodeStage(registry: Registry, readers: ReaderSchemas): Stage {
  // avsc resolvers are costly to build and immutable: one per (reader, writer id).
  const resolvers = new Map<string, avro.Resolver>();

  function resolver(source: SourceSpec, reader: avro.Type, writer: WriterSchema & { kind: 'avro' }): avro.Resolver {
    const key = `${source.name}|${writer.id}`;
    let found = resolvers.get(key);
    if (!found) {
      try {
        found = reader.createResolver(writer.type);
      } catch (err) {
        throw new DataError('SCHEMA_MISMATCH', `writer schema ${writer.id} (${writer.subject} v${writer.version}) cannot be read as ${source.subject}: ${(err as Error).message}`);
      }
      resolvers.set(key, found);
    }
    return found;
  }

  async function decodeOne(ev: PipelineEvent): Promise<void> {
    const value = ev.value;
    if (value === null) throw new DataError('DECODE_FAILED', 'value is null (tombstone); raw topics carry events, not deletes');
    if (value.length > ev.source.maxValueBytes) {
      throw new DataError('OVERSIZE', `value has ${value.length} bytes, above the limit of ${ev.source.maxValueBytes}`);
    }
    const frame = readWireFrame(value);
    const writer = await registry.writerSchema(frame.schemaId);
    ev.schemaId = writer.id;
    ev.schemaVersion = writer.version;
    const reader = readers.get(ev.source);
    if (writer.kind === 'avro') {
      if (reader.kind !== 'avro') throw new DataError('SCHEMA_MISMATCH', `schema ${writer.id} is Avro but source ${ev.source.name} expects JSON Schema`);
      try {
        ev.record = reader.type.fromBuffer(frame.payload, resolver(ev.source, reader.type, writer)) as Record<string, unknown>;
      } catch (err) {
        if (err instanceof DataError) throw err;
        throw new DataError('DECODE_FAILED', `Avro payload does not decode with schema ${writer.id}: ${(err as Error).message}`);
      }
      return;
    }
    if (reader.kind !== 'json') throw new DataError('SCHEMA_MISMATCH', `schema ${writer.id} is JSON Schema but source ${ev.source.name} expects Avro`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame.payload));
    } catch (err) {
      throw new DataError('DECODE_FAILED', `payload is not UTF-8 JSON: ${(err as Error).message}`);
    }
    for (const validate of [writer.validate, reader.validate]) {
      if (!validate(parsed)) {
        const first = validate.errors?.[0];
        throw new DataError('VALIDATION_FAILED', `JSON Schema: ${first?.message ?? 'invalid'}`, first?.instancePath || '/');
      }
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new DataError('VALIDATION_FAILED', 'event must be a JSON object', '/');
    }
    ev.record = parsed as Record<string, unknown>;
  }

  return {
    name: 'decode',
    async process(batch) {
      // Distinct unknown ids are fetched once per batch thanks to the registry cache.
      await Promise.all(
        batch.filter(isLive).map(async (ev) => {
          try {
            await decodeOne(ev);
          } catch (err) {
            if (!(err instanceof DataError)) throw err;
            fail(ev, { reason: err.reason, message: err.message, path: err.path, stage: 'decode' });
          }
        }),
      );
    },
  };
}

import type avro from 'avsc';
import { DataError } from '../errors';
import type { PipelineEvent, Stage, StageContext } from '../pipeline/event';
import { fail, isLive } from '../pipeline/event';
import type { SourceSpec } from '../topology/types';
import { readWireFrame, type WireFrame } from './wire';
import type { Registry, WriterSchema } from './registry';
import type { ReaderSchemas } from './reader';
import { LatestReaderFollower } from './follow-latest';

/**
 * Decode: Confluent wire frame -> writer schema by id (cached) -> value read with the
 * topology's reader schema, so data written with an older compatible version arrives in the
 * current shape. A writer id not met before may bring a newer reader schema (`readerSchema:
 * latest`, ./follow-latest.ts); it is settled before the batch decodes, so one batch is read
 * with one reader. Bad values are marked with their reason; registry outages throw.
 */
export function createDecodeStage(registry: Registry, readers: ReaderSchemas): Stage {
  // avsc resolvers are costly to build and immutable: one per (reader, writer id). Keyed by
  // the reader's type, so a replaced reader takes its resolvers with it.
  const resolvers = new WeakMap<avro.Type, Map<number, avro.Resolver>>();
  const follower = new LatestReaderFollower(registry, readers);
  const utf8 = new TextDecoder('utf-8', { fatal: true });

  function resolver(source: SourceSpec, reader: avro.Type, writer: WriterSchema & { kind: 'avro' }): avro.Resolver {
    let byWriter = resolvers.get(reader);
    if (!byWriter) resolvers.set(reader, (byWriter = new Map()));
    let found = byWriter.get(writer.id);
    if (!found) {
      try {
        found = reader.createResolver(writer.type);
      } catch (err) {
        throw new DataError('SCHEMA_MISMATCH', `writer schema ${writer.id} (${writer.subject} v${writer.version}) cannot be read as ${source.subject}: ${(err as Error).message}`);
      }
      byWriter.set(writer.id, found);
    }
    return found;
  }

  /** Waits for the reader schema checks of writer ids the batch's sources have not met. */
  async function followLatest(ids: Map<SourceSpec, Set<number>>, writers: Map<number, WriterSchema | DataError>, ctx: StageContext): Promise<void> {
    const checks: Promise<void>[] = [];
    for (const [source, seen] of ids) {
      for (const id of seen) {
        const writer = writers.get(id);
        if (!writer || writer instanceof DataError) continue;
        const check = follower.check(source, writer, ctx.log);
        if (check) checks.push(check);
      }
    }
    await Promise.all(checks);
  }

  /** Size and frame checks; the schema id to look up. */
  function frameOf(ev: PipelineEvent): WireFrame {
    const value = ev.value;
    if (value === null) throw new DataError('DECODE_FAILED', 'value is null (tombstone); raw topics carry events, not deletes');
    if (value.length > ev.source.maxValueBytes) {
      throw new DataError('OVERSIZE', `value has ${value.length} bytes, above the limit of ${ev.source.maxValueBytes}`);
    }
    return readWireFrame(value);
  }

  function decodeWith(ev: PipelineEvent, frame: WireFrame, writer: WriterSchema): void {
    ev.schemaId = writer.id;
    ev.schemaVersion = writer.version;
    const reader = readers.get(ev.source);
    if (writer.kind === 'avro') {
      if (reader.kind !== 'avro') throw new DataError('SCHEMA_MISMATCH', `schema ${writer.id} is Avro but source ${ev.source.name} expects JSON Schema`);
      const res = resolver(ev.source, reader.type, writer);
      try {
        ev.record = reader.type.fromBuffer(frame.payload, res) as Record<string, unknown>;
      } catch (err) {
        throw new DataError('DECODE_FAILED', `Avro payload does not decode with schema ${writer.id}: ${(err as Error).message}`);
      }
      return;
    }
    if (reader.kind !== 'json') throw new DataError('SCHEMA_MISMATCH', `schema ${writer.id} is JSON Schema but source ${ev.source.name} expects Avro`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(frame.payload));
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

  /** Runs `fn`; a DataError marks the event as a dead letter, anything else propagates. */
  function guarded(ev: PipelineEvent, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      fail(ev, { reason: err.reason, message: err.message, path: err.path, stage: 'decode' });
    }
  }

  return {
    name: 'decode',
    async process(batch, ctx) {
      // Three passes, so a batch awaits once per distinct schema id rather than once per event:
      // frames, writer schemas (cached by the registry) and reader checks, then synchronous decoding.
      const frames = new Map<PipelineEvent, WireFrame>();
      const lookups = new Map<number, Promise<WriterSchema>>();
      const idsBySource = new Map<SourceSpec, Set<number>>();
      for (const ev of batch) {
        if (!isLive(ev)) continue;
        guarded(ev, () => {
          const frame = frameOf(ev);
          frames.set(ev, frame);
          if (!lookups.has(frame.schemaId)) lookups.set(frame.schemaId, registry.writerSchema(frame.schemaId));
          let ids = idsBySource.get(ev.source);
          if (!ids) idsBySource.set(ev.source, (ids = new Set()));
          ids.add(frame.schemaId);
        });
      }
      const writers = new Map<number, WriterSchema | DataError>();
      await Promise.all(
        [...lookups].map(async ([id, lookup]) => {
          try {
            writers.set(id, await lookup);
          } catch (err) {
            if (!(err instanceof DataError)) throw err; // registry outage: the batch is retried
            writers.set(id, err);
          }
        }),
      );
      await followLatest(idsBySource, writers, ctx);
      for (const [ev, frame] of frames) {
        guarded(ev, () => {
          const writer = writers.get(frame.schemaId)!;
          if (writer instanceof DataError) throw writer;
          decodeWith(ev, frame, writer);
        });
      }
    },
  };
}

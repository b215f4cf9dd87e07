import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import pino from 'pino';
import { LatestReaderFollower } from '../../src/decode/follow-latest';
import { ReaderSchemas } from '../../src/decode/reader';
import type { Registry, SubjectVersion, WriterSchema } from '../../src/decode/registry';
import { createDecodeStage } from '../../src/decode/stage';
import { readWireFrame, writeWireFrame } from '../../src/decode/wire';
import { createLineageStep } from '../../src/enrich/lineage';
import { DataError, InfrastructureError, UserError } from '../../src/errors';
import { logger } from '../../src/observability/logger';
import type { PipelineEvent } from '../../src/pipeline/event';
import { createOutputBuilder } from '../../src/sink/output-builder';
import { registerOutputSchemas } from '../../src/sink/schemas';
import { loadTopologyText } from '../../src/topology/load';
import type { SourceSpec } from '../../src/topology/types';
import { makeContext, makeEvent, testSource } from '../helpers/events';

// The decision to follow a newer version of the source subject, against an in-memory
// registry (the real one is exercised in test/integration/reader-schema.test.ts).

const FIXTURES = path.resolve(__dirname, '../fixtures');
const read = (f: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8'));
const V1 = read('order-v1.avsc');
const V3 = read('order-v3.avsc');
const log = logger.child({}, { level: 'silent' });

/** Subjects as lists of schemas (version = index + 1, id = 100 * subject number + version). */
class MemoryRegistry {
  latestCalls = 0;
  registered: Array<{ subject: string; schema: string }> = [];
  failLatest?: Error;
  private readonly subjects = new Map<string, string[]>();

  add(subject: string, schema: unknown): WriterSchema & { kind: 'avro' } {
    const list = this.subjects.get(subject) ?? [];
    list.push(JSON.stringify(schema));
    this.subjects.set(subject, list);
    return this.writer(subject, list.length);
  }

  writer(subject: string, version: number): WriterSchema & { kind: 'avro' } {
    const schema = this.subjects.get(subject)![version - 1];
    return { kind: 'avro', id: this.idOf(subject, version), type: avro.Type.forSchema(JSON.parse(schema)), version, subject };
  }

  async writerSchema(id: number): Promise<WriterSchema> {
    for (const subject of this.subjects.keys()) {
      const version = id - this.idOf(subject, 0);
      if (version >= 1 && version <= this.subjects.get(subject)!.length) return this.writer(subject, version);
    }
    throw new DataError('UNKNOWN_SCHEMA_ID', `no schema ${id}`);
  }

  async latest(subject: string): Promise<SubjectVersion | undefined> {
    this.latestCalls++;
    await Promise.resolve();
    if (this.failLatest) throw this.failLatest;
    const list = this.subjects.get(subject);
    if (!list) return undefined;
    return { id: this.idOf(subject, list.length), version: list.length, schema: list[list.length - 1], schemaType: 'AVRO' };
  }

  async register(subject: string, schema: string): Promise<number> {
    this.registered.push({ subject, schema });
    const list = this.subjects.get(subject) ?? [];
    const at = list.indexOf(schema);
    if (at >= 0) return this.idOf(subject, at + 1);
    return this.add(subject, JSON.parse(schema)).id;
  }

  private idOf(subject: string, version: number): number {
    return 100 * ([...this.subjects.keys()].indexOf(subject) + 1) + version;
  }
}

function setUp(source: SourceSpec = testSource()) {
  const registry = new MemoryRegistry();
  const v1 = registry.add(source.subject, V1);
  return { registry, source, v1 };
}

describe('LatestReaderFollower', () => {
  it('adopts a newer compatible version once, however many batches meet its id together', async () => {
    const { registry, source } = setUp();
    const readers = await ReaderSchemas.load(registry, [source]);
    let prepared = 0;
    readers.onChange(async () => {
      prepared++;
      return () => undefined;
    });
    const follower = new LatestReaderFollower(registry, readers);
    const v3 = registry.add(source.subject, V3);
    registry.latestCalls = 0;
    await Promise.all(Array.from({ length: 5 }, () => follower.check(source, v3, log)));
    expect(readers.get(source)).toMatchObject({ version: 2, id: v3.id });
    expect({ lookups: registry.latestCalls, prepared }).toEqual({ lookups: 1, prepared: 1 });
    expect(follower.check(source, v3, log)).toBeUndefined();
  });

  it('looks nothing up for the reader itself or older versions of the subject', async () => {
    const { registry, source, v1 } = setUp();
    const readers = await ReaderSchemas.load(registry, [source]);
    registry.latestCalls = 0;
    const follower = new LatestReaderFollower(registry, readers);
    expect(follower.check(source, v1, log)).toBeUndefined();
    const v3 = registry.add(source.subject, V3);
    await follower.check(source, v3, log);
    expect(follower.check(source, v1, log)).toBeUndefined();
    expect(registry.latestCalls).toBe(1);
  });

  it('keeps a pinned reader, waits for nothing, and says once that the subject moved on', async () => {
    const pinned = { ...testSource(), readerSchema: 'pinned' as const };
    const { registry } = setUp(pinned);
    const readers = await ReaderSchemas.load(registry, [pinned]);
    const lines: Array<{ msg: string; latest?: number }> = [];
    const capture = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const follower = new LatestReaderFollower(registry, readers);
    const v3 = registry.add(pinned.subject, V3);
    registry.latestCalls = 0;
    expect(follower.check(pinned, v3, capture)).toBeUndefined();
    expect(follower.check(pinned, v3, capture)).toBeUndefined();
    await new Promise((r) => setImmediate(r));
    expect(readers.get(pinned).version).toBe(1);
    expect(registry.latestCalls).toBe(1);
    expect(lines.map((l) => [l.msg, l.latest])).toEqual([[expect.stringContaining('pinned reader schema drops its new fields'), 2]]);
  });

  it('asks once about a writer of another subject, and keeps the reader when the latest version is unchanged', async () => {
    const { registry, source } = setUp();
    const readers = await ReaderSchemas.load(registry, [source]);
    const follower = new LatestReaderFollower(registry, readers);
    const other = registry.add('other-value', { type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }] });
    registry.latestCalls = 0;
    await follower.check(source, other, log);
    expect(follower.check(source, other, log)).toBeUndefined();
    expect(registry.latestCalls).toBe(1);
    expect(readers.get(source).version).toBe(1);
  });

  it('keeps the reader when the newer version cannot read what the current one reads', async () => {
    const { registry, source } = setUp();
    const readers = await ReaderSchemas.load(registry, [source]);
    const follower = new LatestReaderFollower(registry, readers);
    // A registry with compatibility NONE lets through a required field without a default.
    const breaking = registry.add(source.subject, { ...V1, fields: [...V1.fields, { name: 'tenant', type: 'string' }] });
    await follower.check(source, breaking, log);
    expect(readers.get(source).version).toBe(1);
  });

  it('changes nothing on a registry outage and asks again with the retried batch', async () => {
    const { registry, source } = setUp();
    const readers = await ReaderSchemas.load(registry, [source]);
    const follower = new LatestReaderFollower(registry, readers);
    const v3 = registry.add(source.subject, V3);
    registry.failLatest = new InfrastructureError('registry', 'down');
    await expect(follower.check(source, v3, log)).rejects.toThrow('down');
    expect(readers.get(source).version).toBe(1);
    registry.failLatest = undefined;
    await follower.check(source, v3, log);
    expect(readers.get(source).version).toBe(2);
  });

  it('keeps the reader when preparing the switch fails, and switches nothing half-way', async () => {
    const { registry, source } = setUp();
    const readers = await ReaderSchemas.load(registry, [source]);
    const flipped: string[] = [];
    readers.onChange(async () => () => flipped.push('first'));
    readers.onChange(async () => {
      throw new DataError('SCHEMA_MISMATCH', 'registry refused the enriched schema');
    });
    const follower = new LatestReaderFollower(registry, readers);
    const v3 = registry.add(source.subject, V3);
    await follower.check(source, v3, log);
    expect({ version: readers.get(source).version, flipped }).toEqual({ version: 1, flipped: [] });
    expect(follower.check(source, v3, log)).toBeUndefined(); // a refusal is not asked again per batch
  });
});

describe('decode and the enriched schema follow the reader together', () => {
  it('encodes v3 events with the re-derived enriched schema, and v1 events with its defaults, even those read before the switch', async () => {
    const ctx = { ...makeContext('follow'), log };
    const source = ctx.topology.sources[0];
    const { registry, v1 } = setUp(source);
    const readers = await ReaderSchemas.load(registry, [source]);
    const asRegistry = registry as unknown as Registry;
    const schemas = await registerOutputSchemas(asRegistry, ctx.topology, readers);
    const stages = [createDecodeStage(asRegistry, readers), createLineageStep(ctx.topology, 'test')];
    const outputs = createOutputBuilder(ctx.topology, schemas);
    const enrichedBefore = schemas.enriched.get(source.name)!.id;

    const event = (writer: WriterSchema & { kind: 'avro' }, record: Record<string, unknown>) => {
      const ev = makeEvent({ value: writeWireFrame(writer.id, writer.type.toBuffer(record)) });
      ev.idempotencyKey = String(record.event_id);
      return ev;
    };
    const process = async (batch: PipelineEvent[]) => {
      for (const stage of stages) await stage.process(batch, ctx);
      expect(batch.map((ev) => ev.failure)).toEqual(batch.map(() => undefined));
    };
    const base = { ts: 1, type: 'checkout', status: 'ok' };
    // Partition A's chunk is decoded with the v1 reader; partition B's chunk brings v3 and
    // switches the reader before A's chunk is encoded.
    const chunkA = [event(v1, { ...base, event_id: 'a' })];
    await process(chunkA);
    const v3 = registry.add(source.subject, V3);
    const chunkB = [event(v1, { ...base, event_id: 'b' }), event(v3, { ...base, event_id: 'c', coupon: 'C-1', region: 'eu' })];
    await process(chunkB);
    const messages = [...outputs.build(chunkA), ...outputs.build(chunkB)];

    const enrichedAfter = schemas.enriched.get(source.name)!.id;
    expect(enrichedAfter).not.toBe(enrichedBefore);
    const enriched = (await registry.writerSchema(enrichedAfter)) as WriterSchema & { kind: 'avro' };
    const decoded = messages.map((m) => {
      const frame = readWireFrame(m.value!);
      expect(frame.schemaId).toBe(enrichedAfter);
      return enriched.type.fromBuffer(frame.payload) as Record<string, unknown>;
    });
    expect(decoded.map((r) => [r.event_id, r.coupon, r.region])).toEqual([['a', null, 'unknown'], ['b', null, 'unknown'], ['c', 'C-1', 'eu']]);
  });
});

describe('topology: sources[].readerSchema', () => {
  const yaml = (extra: string) => `apiVersion: tracklane/v1
kind: Topology
metadata: { name: inline, version: 1 }
spec:
  sources:
    - name: web
      topic: raw.inline
      eventTime: { field: ts }
      idempotencyKey: event_id
${extra}  outputs:
    enriched: { topic: enriched.inline }
    deadLetter: { topic: dlq.inline }
    metrics: { topic: slo.metrics }
    alerts: { topic: slo.alerts }
`;

  it('is latest by default, pinned when asked, and nothing else', () => {
    expect(loadTopologyText(yaml(''), 'x.yaml').sources[0].readerSchema).toBe('latest');
    expect(loadTopologyText(yaml('      readerSchema: pinned\n'), 'x.yaml').sources[0].readerSchema).toBe('pinned');
    expect(() => loadTopologyText(yaml('      readerSchema: newest\n'), 'x.yaml')).toThrow(UserError);
  });
});

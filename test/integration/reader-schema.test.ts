import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { Engine } from '../../src/engine';
import { initTopology } from '../../src/cli/init';
import { Registry, registryOptionsFromEnv } from '../../src/decode/registry';
import { readWireFrame, writeWireFrame } from '../../src/decode/wire';
import { loadTopology } from '../../src/topology/load';
import { deleteTopics, kafka } from '../helpers/stack-env';
import { FIXTURES, encodeV1, rewriteFixture, writeFixture, type Fixture, type Order } from '../helpers/engine-fixture';
import { readDecoded, type DeadLetter, type Enriched } from '../helpers/outputs';

// Issue 11: a new compatible version of the source subject, registered while the engine runs.
// With `readerSchema: latest` its new field reaches the enriched topic without a restart; with
// `pinned` the reader stays what it was at start. The engine starts with only v1 registered;
// v3 (v2's fields plus `coupon`, all with defaults) is registered mid-stream.

process.env.TRACKLANE_PSEUDONYM_KEYS = 'k1:test-secret-0123456789abcdef';

const ORDER_V3 = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'order-v3.avsc'), 'utf8'));
const v3Type = avro.Type.forSchema(ORDER_V3);
const OTHER = { type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }] } as const;
const BATCH = 30;

type Row = { frameId: number; value: Enriched };

interface Outcome {
  f: Fixture;
  /** Enriched records by event id (a redelivery after a rebalance may repeat one). */
  byId: Map<string, Row[]>;
  letters: DeadLetter[];
  registry: Registry;
}

function order(id: string, ts: number): Order {
  return { event_id: id, ts, type: 'checkout', status: 'ok', email: `${id}@mail.example.org` };
}

/**
 * v1 events, enriched; then v3 registered and v3 events, v1 events and one event of an
 * unrelated record sent together, all with the engines running throughout.
 */
async function runScenario(mode: 'latest' | 'pinned', instances: number, engines: Engine[], delivery: 'at-least-once' | 'exactly-once' = 'at-least-once'): Promise<Outcome> {
  const f = writeFixture({ maxValueBytes: 2048, delivery });
  fs.copyFileSync(path.join(FIXTURES, 'order-v1.avsc'), path.join(f.dir, 'order.avsc'));
  if (mode === 'pinned') rewriteFixture(f, 'maxValueBytes: 2048', 'maxValueBytes: 2048\n      readerSchema: pinned');
  await initTopology(loadTopology(f.file));
  const registry = new Registry(registryOptionsFromEnv());
  const v1 = (await registry.latest(f.subject))!;
  expect(v1.version).toBe(1);

  for (let i = 0; i < instances; i++) {
    const engine = new Engine({ topology: loadTopology(f.file), metricsPort: 0, instanceId: `reader-${mode}-${i}` });
    engines.push(engine);
    await engine.start();
  }
  const producer = kafka().producer();
  await producer.connect();
  try {
    const now = Date.now();
    await producer.send({
      topic: f.raw,
      messages: Array.from({ length: BATCH }, (_, i) => ({ key: `before-${i}`, value: encodeV1(v1.id, order(`before-${i}`, now)) })),
    });
    await readDecoded<Enriched>(f.enriched, { expected: BATCH });

    const v3 = await registry.register(f.subject, JSON.stringify(ORDER_V3));
    const otherId = await registry.register(`other.${f.name}-value`, JSON.stringify(OTHER));
    const messages = [];
    for (let i = 0; i < BATCH; i++) {
      const v3Order = { ...order(`v3-${i}`, now), region: 'eu', duration_ms: i, coupon: `C-${i}` };
      messages.push({ key: `v3-${i}`, value: writeWireFrame(v3, v3Type.toBuffer(v3Order)) });
      messages.push({ key: `after-${i}`, value: encodeV1(v1.id, order(`after-${i}`, now)) });
    }
    messages.push({ key: 'other', value: writeWireFrame(otherId, avro.Type.forSchema(OTHER).toBuffer({ x: 1 })) });
    await producer.send({ topic: f.raw, messages });
  } finally {
    await producer.disconnect();
  }

  const rows = await readDecoded<Enriched>(f.enriched, { expected: 3 * BATCH });
  const byId = new Map<string, Row[]>();
  for (const { message, value } of rows) {
    const list = byId.get(value.event_id) ?? [];
    list.push({ frameId: readWireFrame(message.value!).schemaId, value });
    byId.set(value.event_id, list);
  }
  const letters = (await readDecoded<DeadLetter>(f.dlq, { expected: 1 })).map((l) => l.value);
  return { f, byId, letters, registry };
}

function rowsOf(o: Outcome, prefix: string): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < BATCH; i++) {
    const rows = o.byId.get(`${prefix}-${i}`);
    expect({ id: `${prefix}-${i}`, enriched: !!rows }).toEqual({ id: `${prefix}-${i}`, enriched: true });
    out.push(...rows!);
  }
  return out;
}

function expectOneSchemaMismatch(o: Outcome): void {
  expect(o.letters.map((l) => [l.key?.toString(), l.reason])).toEqual([['other', 'SCHEMA_MISMATCH']]);
}

describe('readerSchema: latest (the default)', () => {
  const engines: Engine[] = [];
  let o: Outcome;

  beforeAll(async () => {
    // Two members of the group: both meet v3 at about the same time and register the same
    // enriched schema concurrently.
    o = await runScenario('latest', 2, engines);
  });

  afterAll(async () => {
    for (const e of engines) await e.stop();
    if (o) await deleteTopics(o.f.topics);
  });

  it('carries the new field of a v3 writer into the enriched output without a restart', () => {
    expect(o.byId.size).toBe(3 * BATCH);
    for (const { value } of rowsOf(o, 'v3')) {
      const i = value.event_id.slice(3);
      expect({ id: value.event_id, coupon: value.coupon, region: value.region }).toEqual({ id: value.event_id, coupon: `C-${i}`, region: 'eu' });
      expect(value.tracklane.source.schema_version).toBe(2);
    }
  });

  it('keeps enriching v1 events, now with the new reader schema defaults', () => {
    for (const { value } of rowsOf(o, 'after')) {
      expect({ id: value.event_id, coupon: value.coupon, region: value.region }).toEqual({ id: value.event_id, coupon: null, region: 'unknown' });
      expect(value.tracklane.source.schema_version).toBe(1);
      expect(value.email).toMatch(/^k1:[0-9a-f]{64}$/);
    }
    for (const { value } of rowsOf(o, 'before')) expect('coupon' in value).toBe(false);
  });

  it('registers the re-derived enriched schema and writes the new records with its id', async () => {
    const before = new Set(rowsOf(o, 'before').map((r) => r.frameId));
    const after = new Set([...rowsOf(o, 'v3'), ...rowsOf(o, 'after')].map((r) => r.frameId));
    expect(before.size).toBe(1);
    // Both engines registered the re-derived schema concurrently and got the same id.
    expect(after.size).toBe(1);
    for (const id of after) expect(before.has(id)).toBe(false);
    const latest = (await o.registry.latest(`${o.f.enriched}-value`))!;
    expect(after.has(latest.id)).toBe(true);
    expect(JSON.parse(latest.schema).fields.map((x: { name: string }) => x.name)).toEqual(expect.arrayContaining(['coupon', 'region', 'tracklane']));
  });

  it('still dead-letters a writer schema the reader cannot resolve as SCHEMA_MISMATCH', () => {
    expectOneSchemaMismatch(o);
  });
});

describe('readerSchema: latest with exactly-once delivery', () => {
  const engines: Engine[] = [];
  let o: Outcome;

  beforeAll(async () => {
    o = await runScenario('latest', 1, engines, 'exactly-once');
  });

  afterAll(async () => {
    for (const e of engines) await e.stop();
    if (o) await deleteTopics(o.f.topics);
  });

  it('switches between transactions: every committed record decodes, v3 fields included', () => {
    expect(o.byId.size).toBe(3 * BATCH);
    for (const { value } of rowsOf(o, 'v3')) expect(value.coupon).toBe(`C-${value.event_id.slice(3)}`);
    for (const { value } of rowsOf(o, 'after')) expect(value.coupon).toBeNull();
    for (const rows of o.byId.values()) expect(rows).toHaveLength(1);
    expectOneSchemaMismatch(o);
  });
});

describe('readerSchema: pinned', () => {
  const engines: Engine[] = [];
  let o: Outcome;

  beforeAll(async () => {
    o = await runScenario('pinned', 1, engines);
  });

  afterAll(async () => {
    for (const e of engines) await e.stop();
    if (o) await deleteTopics(o.f.topics);
  });

  it('reads v3 events with the reader schema of the start: the new fields are cut off', () => {
    expect(o.byId.size).toBe(3 * BATCH);
    for (const { value } of rowsOf(o, 'v3')) {
      expect({ id: value.event_id, coupon: 'coupon' in value, region: 'region' in value }).toEqual({ id: value.event_id, coupon: false, region: false });
    }
    const ids = new Set([...o.byId.values()].flat().map((r) => r.frameId));
    expect(ids.size).toBe(1);
    expectOneSchemaMismatch(o);
  });
});

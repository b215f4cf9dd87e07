import crypto from 'node:crypto';
import avro from 'avsc';
import { Engine } from '../../src/engine';
import { writeWireFrame } from '../../src/decode/wire';
import { initTopology } from '../../src/engine/provision';
import { replayDeadLetters } from '../../src/cli/replay';
import { loadTopology } from '../../src/topology/load';
import type { DeadLetterReason } from '../../src/errors';
import { deleteTopics, kafka } from '../helpers/stack-env';
import { encodeV1, encodeV2, registerVersions, rewriteFixture, writeFixture, type Fixture, type Order } from '../helpers/engine-fixture';
import { readDecoded, type DeadLetter, type Enriched } from '../helpers/outputs';

// Issue 3's main scenario: a mixed stream through the real engine, Kafka and Apicurio.

const KEYS = { TRACKLANE_PSEUDONYM_KEYS: 'k1:test-secret-0123456789abcdef' };
Object.assign(process.env, KEYS);

interface Sent { key: string; value: Buffer; expect: 'enriched' | DeadLetterReason; order?: Order }

function order(i: number, ts: number): Order {
  return {
    event_id: `ev-${i}`, ts, type: 'checkout', status: i % 10 === 0 ? 'error' : 'ok',
    region: ['eu', 'us'][i % 2], duration_ms: i % 500,
    email: `person${i}@mail.example.org`, ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  };
}

describe('engine core: decode, validate, enrich, dead letters', () => {
  let f: Fixture;
  let engine: Engine | undefined;
  const sent: Sent[] = [];

  beforeAll(async () => {
    f = writeFixture({ maxValueBytes: 2048 });
    const { v1, v2, registry } = await registerVersions(f.subject);
    await initTopology(loadTopology(f.file));
    const otherId = await registry.register(`other.${f.name}-value`, JSON.stringify({ type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }] }));
    const otherType = avro.Type.forSchema({ type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }] });
    const now = Date.now();
    for (let i = 0; i < 10_000; i++) {
      const o = order(i, now - 60_000 + i);
      const key = o.event_id;
      const kind = i % 10;
      // 9,000 valid (a ninth of them written with v1) and 1,000 bad of seven kinds.
      if (kind !== 0) {
        sent.push({ key, value: i % 9 === 0 ? encodeV1(v1, o) : encodeV2(v2, o), expect: 'enriched', order: o });
        continue;
      }
      const bad = (i / 10) % 7;
      if (bad === 0) sent.push({ key, value: encodeV2(v2, o).subarray(0, 12), expect: 'DECODE_FAILED' });
      else if (bad === 1) sent.push({ key, value: writeWireFrame(987_654_321, avro.Type.forSchema({ type: 'string' }).toBuffer('x')), expect: 'UNKNOWN_SCHEMA_ID' });
      else if (bad === 2) { const v = Buffer.from(encodeV2(v2, o)); v[0] = 1; sent.push({ key, value: v, expect: 'DECODE_FAILED' }); }
      else if (bad === 3) sent.push({ key, value: writeWireFrame(otherId, otherType.toBuffer({ x: i })), expect: 'SCHEMA_MISMATCH' });
      else if (bad === 4) sent.push({ key, value: encodeV2(v2, { ...o, event_id: '' }), expect: 'MISSING_IDEMPOTENCY_KEY' });
      else if (bad === 5) sent.push({ key, value: encodeV2(v2, { ...o, ts: now + 3_600_000 }), expect: 'EVENT_TIME_INVALID' });
      else sent.push({ key, value: encodeV2(v2, { ...o, note: 'x'.repeat(3000) }), expect: 'OVERSIZE', order: { ...o, note: 'x'.repeat(3000) } });
    }
    const producer = kafka().producer();
    await producer.connect();
    for (let i = 0; i < sent.length; i += 1000) {
      await producer.send({ topic: f.raw, messages: sent.slice(i, i + 1000).map((s) => ({ key: s.key, value: s.value, headers: { origin: 'test' } })) });
    }
    await producer.disconnect();
    engine = new Engine({ topology: loadTopology(f.file), metricsPort: 0, instanceId: 'core-test' });
    await engine.start();
  });

  afterAll(async () => {
    await engine?.stop();
    await deleteTopics(f.topics);
  });

  it('enriches every valid event and dead-letters every bad one once, with its reason and original bytes', async () => {
    const valid = sent.filter((s) => s.expect === 'enriched');
    const bad = sent.filter((s) => s.expect !== 'enriched');
    const enriched = await readDecoded<Enriched>(f.enriched, { expected: valid.length });
    expect(enriched).toHaveLength(valid.length);
    expect(new Set(enriched.map((e) => e.value.event_id))).toEqual(new Set(valid.map((s) => s.key)));

    const letters = await readDecoded<DeadLetter>(f.dlq, { expected: bad.length });
    expect(letters).toHaveLength(bad.length);
    const byKey = new Map(letters.map((l) => [l.value.key!.toString(), l.value]));
    for (const s of bad) {
      const letter = byKey.get(s.key)!;
      expect({ key: s.key, reason: letter.reason }).toEqual({ key: s.key, reason: s.expect });
      expect(Buffer.compare(letter.value!, s.value)).toBe(0);
      expect(letter.headers.origin.toString()).toBe('test');
      expect(letter.source_topic).toBe(f.raw);
    }
    const missing = letters.find((l) => l.value.reason === 'MISSING_IDEMPOTENCY_KEY')!;
    expect(missing.value.path).toBe('/event_id');
  });

  it('reads v1 and v2 events with the v2 reader schema and records lineage', async () => {
    const enriched = await readDecoded<Enriched>(f.enriched, { expected: 9000 });
    const ids = new Set(enriched.map((e) => e.value.tracklane.source.schema_id));
    expect(ids.size).toBe(2); // both writer versions arrived...
    for (const { value } of enriched) {
      expect(value.region).toMatch(/^(eu|us|unknown)$/); // ...and all carry v2's fields
      if (value.tracklane.source.schema_version === 1) expect(value.region).toBe('unknown');
      expect(value.tracklane.steps).toEqual(['correlation', 'pseudonymize', 'lineage']);
      expect(value.tracklane.correlation_generated).toBe(true);
      expect(value.tracklane.source.topic).toBe(f.raw);
    }
  });

  it('lets no raw personal value into the enriched topic', async () => {
    const enriched = await readDecoded<Enriched>(f.enriched, { expected: 9000 });
    const hmac = (v: string) => 'k1:' + crypto.createHmac('sha256', KEYS.TRACKLANE_PSEUDONYM_KEYS.slice(3)).update(v).digest('hex');
    const byId = new Map(sent.filter((s) => s.order).map((s) => [s.key, s.order!]));
    for (const { message, value } of enriched) {
      const text = message.value!.toString('latin1');
      expect(text).not.toContain('@mail.example.org');
      const o = byId.get(value.event_id)!;
      expect(text).not.toContain(o.ip!);
      expect(value.email).toBe(hmac(o.email!));
      expect(value.tracklane.pseudonymized).toEqual(['email', 'ip']);
    }
  });

  it('brings corrected dead letters through on replay', async () => {
    await engine!.stop();
    rewriteFixture(f, 'maxValueBytes: 2048', 'maxValueBytes: 8192');
    engine = new Engine({ topology: loadTopology(f.file), metricsPort: 0, instanceId: 'core-test-2' });
    await engine.start();
    const oversize = sent.filter((s) => s.expect === 'OVERSIZE');
    const result = await replayDeadLetters({ topology: f.file, reason: 'OVERSIZE', idleMs: 3000 });
    expect(result.replayed).toBe(oversize.length);
    const enriched = await readDecoded<Enriched>(f.enriched, { expected: 9000 + oversize.length });
    const ids = new Set(enriched.map((e) => e.value.event_id));
    for (const s of oversize) expect(ids.has(s.key)).toBe(true);
    expect(enriched).toHaveLength(9000 + oversize.length);
  });
});

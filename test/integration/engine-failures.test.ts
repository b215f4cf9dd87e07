import { Engine } from '../../src/engine';
import { initTopology } from '../../src/engine/provision';
import { loadTopology } from '../../src/topology/load';
import { isLive, type Stage } from '../../src/pipeline/event';
import { deleteTopics, kafka } from '../helpers/stack-env';
import { encodeV2, registerVersions, writeFixture, type Fixture, type Order } from '../helpers/engine-fixture';
import { readDecoded, type DeadLetter, type Enriched } from '../helpers/outputs';

// DESIGN.md section 8: only errors marked retriable are retried. A bug that throws on one
// event dead-letters that event and the rest of its batch goes on.

Object.assign(process.env, { TRACKLANE_PSEUDONYM_KEYS: 'k1:test-secret-0123456789abcdef' });

function order(i: number, extra: Partial<Order> = {}): Order {
  return { event_id: `ev-${i}`, ts: Date.now() - 1000, type: 'checkout', status: 'ok', email: `someone${i}@mail.example.org`, ip: `192.0.2.${i % 250}`, ...extra };
}

async function send(topic: string, messages: Array<{ key: string; value: Buffer }>, perRequest = 500): Promise<void> {
  const producer = kafka().producer();
  await producer.connect();
  for (let i = 0; i < messages.length; i += perRequest) await producer.send({ topic, messages: messages.slice(i, i + perRequest) });
  await producer.disconnect();
}

describe('a step that throws on one event', () => {
  let f: Fixture;
  let engine: Engine | undefined;

  afterAll(async () => {
    await engine?.stop();
    await deleteTopics(f.topics);
  });

  it('dead-letters that event as ENRICHMENT_FAILED with the stage path and message; the rest is enriched', async () => {
    f = writeFixture({ partitions: 1 });
    const { v2 } = await registerVersions(f.subject);
    await initTopology(loadTopology(f.file));
    const sent = Array.from({ length: 300 }, (_, i) => ({ key: `ev-${i}`, value: encodeV2(v2, order(i, { note: i === 137 ? null : 'fine' })) }));
    await send(f.raw, sent);

    // A step with a bug a real step could have: it assumes `note` is always set.
    const shout: Stage = {
      name: 'shout',
      async process(batch) {
        for (const ev of batch) if (isLive(ev)) ev.record!.note = (ev.record!.note as string).toUpperCase();
      },
    };
    engine = new Engine({ topology: loadTopology(f.file), metricsPort: 0, instanceId: 'failures-test', extraSteps: [shout] });
    await engine.start();

    const enriched = await readDecoded<Enriched>(f.enriched, { expected: 299, timeoutMs: 60_000 });
    const letters = await readDecoded<DeadLetter>(f.dlq, { expected: 1, timeoutMs: 10_000 });
    expect(enriched).toHaveLength(299);
    expect(enriched.every((e) => e.value.note === 'FINE')).toBe(true);
    expect(letters.map((l) => ({ reason: l.value.reason, stage: l.value.stage, offset: l.value.source_offset }))).toEqual([
      { reason: 'ENRICHMENT_FAILED', stage: 'enrich[2].shout', offset: 137 },
    ]);
    expect(letters[0].value.message).toMatch(/Cannot read properties of null \(reading 'toUpperCase'\)/);
    expect(Buffer.compare(letters[0].value.value!, sent[137].value)).toBe(0);
    expect(engine.ready).toBe(true);
  });
});

describe('output records near the broker size limit', () => {
  let f: Fixture;
  let engine: Engine | undefined;
  let v2 = 0;

  // A step that makes some events much bigger, as a step that copies or derives fields can.
  const grow: Stage = {
    name: 'grow',
    async process(batch) {
      for (const ev of batch) {
        const note = ev.record?.note;
        if (isLive(ev) && typeof note === 'string' && note.startsWith('grow:')) ev.record!.note = note + note;
      }
    },
  };

  beforeAll(async () => {
    f = writeFixture({ partitions: 1, maxValueBytes: 2_000_000 });
    // The source accepts bigger batches than the outputs (Kafka's default, 1,048,588 bytes).
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: f.raw, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '5000000' }] }] });
    await admin.disconnect();
    ({ v2 } = await registerVersions(f.subject));
    await initTopology(loadTopology(f.file));
    engine = new Engine({ topology: loadTopology(f.file), metricsPort: 0, instanceId: 'size-test', extraSteps: [grow] });
    await engine.start();
  });

  afterAll(async () => {
    await engine?.stop();
    await deleteTopics(f.topics);
  });

  it('delivers many large records to one partition that together exceed 1 MB', async () => {
    // One request: one source batch of ~3 MB, one chunk whose outputs all go to one partition.
    const sent = Array.from({ length: 10 }, (_, i) => ({ key: 'same-key', value: encodeV2(v2, order(i, { note: 'n'.repeat(300_000) })) }));
    await send(f.raw, sent, 10);
    const enriched = await readDecoded<Enriched>(f.enriched, { expected: 10, timeoutMs: 60_000 });
    expect(enriched.map((e) => e.value.event_id)).toEqual(sent.map((_, i) => `ev-${i}`));
  });

  it('dead-letters as OVERSIZE, with the original bytes, an event that grows past max.message.bytes when enriched', async () => {
    const big = { key: 'big', value: encodeV2(v2, order(100, { note: 'grow:' + 'x'.repeat(900_000) })) };
    const small = Array.from({ length: 5 }, (_, i) => ({ key: `small-${i}`, value: encodeV2(v2, order(200 + i, { note: 'grow: small' })) }));
    await send(f.raw, [small[0], small[1], big, small[2], small[3], small[4]]);
    const enriched = await readDecoded<Enriched>(f.enriched, { expected: 15, timeoutMs: 60_000 });
    const letters = await readDecoded<DeadLetter>(f.dlq, { expected: 1, timeoutMs: 10_000 });
    expect(enriched.slice(10).map((e) => e.value.event_id)).toEqual(['ev-200', 'ev-201', 'ev-202', 'ev-203', 'ev-204']);
    expect(letters.map((l) => ({ reason: l.value.reason, stage: l.value.stage, key: l.value.key?.toString() }))).toEqual([{ reason: 'OVERSIZE', stage: 'sink', key: 'big' }]);
    expect(letters[0].value.message).toMatch(/above max\.message\.bytes/);
    expect(Buffer.compare(letters[0].value.value!, big.value)).toBe(0);
  });
});

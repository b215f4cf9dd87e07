import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../src/engine';
import { initTopology } from '../../src/engine/provision';
import { Registry, registryOptionsFromEnv } from '../../src/decode/registry';
import { readWireFrame, writeWireFrame } from '../../src/decode/wire';
import { loadTopology } from '../../src/topology/load';
import { consumeAll, deleteTopics, kafka, uniqueName } from '../helpers/stack-env';
import { decode, type DeadLetter } from '../helpers/outputs';

// A JSON Schema source: validated against the writer's JSON Schema, enriched as JSON.

process.env.TRACKLANE_PSEUDONYM_KEYS = 'k1:test-secret-0123456789abcdef';

describe('JSON Schema source', () => {
  const name = uniqueName('js').toLowerCase();
  const topics = [`raw.${name}`, `enriched.${name}`, `dlq.${name}`, `metrics.${name}`, `alerts.${name}`];
  let engine: Engine | undefined;

  afterAll(async () => {
    await engine?.stop();
    await deleteTopics(topics);
  });

  it('enriches valid JSON events and dead-letters invalid ones with a JSON pointer', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-'));
    fs.copyFileSync(path.resolve(__dirname, '../fixtures/order.schema.json'), path.join(dir, 'order.schema.json'));
    const file = path.join(dir, 'topology.yaml');
    fs.writeFileSync(file, `apiVersion: tracklane/v1
kind: Topology
metadata: { name: ${name}, version: 1 }
spec:
  sources:
    - name: app
      topic: ${topics[0]}
      format: json-schema
      subject: ${topics[0]}-value
      schema: order.schema.json
      partitions: 2
      eventTime: { field: ts }
      idempotencyKey: event_id
  enrich:
    - correlation: { field: event_id }
    - pseudonymize: { fields: [email] }
  outputs:
    enriched: { topic: ${topics[1]} }
    deadLetter: { topic: ${topics[2]} }
    metrics: { topic: ${topics[3]} }
    alerts: { topic: ${topics[4]} }
`);
    const topology = loadTopology(file);
    await initTopology(topology);
    const id = (await new Registry(registryOptionsFromEnv()).latest(`${topics[0]}-value`))!.id;
    const frame = (v: unknown) => writeWireFrame(id, Buffer.from(JSON.stringify(v)));
    const now = Date.now();
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({
      topic: topics[0],
      messages: [
        ...Array.from({ length: 50 }, (_, i) => ({ key: `e${i}`, value: frame({ event_id: `e${i}`, ts: now - i, status: 'ok', email: `p${i}@mail.example.org`, amount: i }) })),
        { key: 'bad-amount', value: frame({ event_id: 'bad-amount', ts: now, status: 'ok', amount: -1 }) },
        { key: 'bad-extra', value: frame({ event_id: 'bad-extra', ts: now, status: 'ok', surprise: true }) },
        { key: 'bad-json', value: writeWireFrame(id, Buffer.from('{"event_id": "x", ')) },
        { key: 'bad-utf8', value: writeWireFrame(id, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])) },
      ],
    });
    await producer.disconnect();
    engine = new Engine({ topology, metricsPort: 0, instanceId: 'json' });
    await engine.start();

    const enriched = await consumeAll(topics[1], { readCommitted: true, expected: 50, timeoutMs: 60_000 });
    expect(enriched).toHaveLength(50);
    for (const m of enriched) {
      const body = JSON.parse(readWireFrame(m.value!).payload.toString('utf8'));
      expect(body.email).toMatch(/^k1:[0-9a-f]{64}$/);
      expect(body.tracklane.correlation_id).toBe(body.event_id);
      expect(body.tracklane.steps).toEqual(['correlation', 'pseudonymize', 'lineage']);
    }
    const letters = await Promise.all((await consumeAll(topics[2], { readCommitted: true, expected: 4, timeoutMs: 60_000 })).map((m) => decode<DeadLetter>(m)));
    const byKey = Object.fromEntries(letters.map((l) => [l.key!.toString(), l]));
    expect(byKey['bad-amount']).toMatchObject({ reason: 'VALIDATION_FAILED', path: '/amount' });
    expect(byKey['bad-extra'].reason).toBe('VALIDATION_FAILED');
    expect(byKey['bad-json'].reason).toBe('DECODE_FAILED');
    expect(byKey['bad-utf8'].reason).toBe('DECODE_FAILED');
  });
});

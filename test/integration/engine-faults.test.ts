import { Engine } from '../../src/engine';
import { initTopology } from '../../src/engine/provision';
import { loadTopology } from '../../src/topology/load';
import { deleteTopics, kafka, registryUrl } from '../helpers/stack-env';
import { encodeV1, encodeV2, registerVersions, writeFixture, type Fixture, type Order } from '../helpers/engine-fixture';
import { readDecoded, type Enriched } from '../helpers/outputs';
import { TcpProxy } from '../helpers/tcp-proxy';
import { ChildEngine } from '../helpers/child-engine';

// Infrastructure faults are not bad data: nothing is dead-lettered and nothing is lost.

const KEYS = { TRACKLANE_PSEUDONYM_KEYS: 'k1:test-secret-0123456789abcdef' };
Object.assign(process.env, KEYS);

function order(i: number): Order {
  return { event_id: `ev-${i}`, ts: Date.now() - 1000, type: 'checkout', status: 'ok', email: `someone${i}@mail.example.org`, ip: `192.0.2.${i % 250}` };
}

async function send(topic: string, values: Array<{ key: string; value: Buffer }>): Promise<void> {
  const producer = kafka().producer();
  await producer.connect();
  for (let i = 0; i < values.length; i += 500) await producer.send({ topic, messages: values.slice(i, i + 500) });
  await producer.disconnect();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('registry outage', () => {
  let f: Fixture;
  let engine: Engine | undefined;
  const proxy = new TcpProxy({ host: new URL(registryUrl()).hostname, port: Number(new URL(registryUrl()).port || 80) });

  afterAll(async () => {
    await engine?.stop();
    await proxy.stop();
    await deleteTopics(f.topics);
  });

  it('pauses while the registry is away for 20 s, dead-letters nothing, and enriches everything after', async () => {
    f = writeFixture();
    const { v1, v2 } = await registerVersions(f.subject);
    await initTopology(loadTopology(f.file));
    const port = await proxy.start();
    const url = new URL(registryUrl());
    url.port = String(port);
    engine = new Engine({ topology: loadTopology(f.file), metricsPort: 0, instanceId: 'outage', env: { ...process.env, SCHEMA_REGISTRY_URL: url.toString() } });
    await engine.start();
    await send(f.raw, Array.from({ length: 500 }, (_, i) => ({ key: `ev-${i}`, value: encodeV2(v2, order(i)) })));
    expect(await readDecoded<Enriched>(f.enriched, { expected: 500 })).toHaveLength(500);

    await proxy.stop();
    // v1's id has not been seen yet, so the engine must ask the registry for it.
    await send(f.raw, Array.from({ length: 1000 }, (_, j) => ({ key: `ev-${500 + j}`, value: j % 2 ? encodeV1(v1, order(500 + j)) : encodeV2(v2, order(500 + j)) })));
    await sleep(20_000);
    const retries = await engine.metrics.infraRetries.get();
    expect(retries.values.reduce((a, v) => a + v.value, 0)).toBeGreaterThan(0);
    await proxy.start();

    const enriched = await readDecoded<Enriched>(f.enriched, { expected: 1500 });
    expect(new Set(enriched.map((e) => e.value.event_id)).size).toBe(1500);
    const letters = await readDecoded(f.dlq, { idleMs: 2000 });
    expect(letters).toHaveLength(0);
  });
});

describe('kill -9 of the engine mid-stream (at-least-once)', () => {
  let f: Fixture;
  let child: ChildEngine | undefined;

  afterAll(async () => {
    await child?.stop();
    await deleteTopics(f.topics);
  });

  it('loses no valid event, and logs no personal value', async () => {
    f = writeFixture();
    const { v2 } = await registerVersions(f.subject);
    await initTopology(loadTopology(f.file));
    const total = 20_000;
    await send(f.raw, Array.from({ length: total }, (_, i) => ({ key: `ev-${i}`, value: encodeV2(v2, order(i)) })));
    child = new ChildEngine(f.file, KEYS, 'kill9-a');
    child.start();
    // Kill it once it has delivered part of the stream.
    for (let t = 0; t < 120; t++) {
      const so_far = await readDecoded(f.enriched, { idleMs: 300, timeoutMs: 5000 });
      if (so_far.length > 2000) break;
      await sleep(500);
    }
    child.kill9();
    const logsBefore = child.output;
    child = new ChildEngine(f.file, KEYS, 'kill9-b');
    child.start();
    const enriched = await readDecoded<Enriched>(f.enriched, { expected: total, timeoutMs: 180_000 });
    const ids = new Set(enriched.map((e) => e.value.event_id));
    expect(ids.size).toBe(total);
    const logs = logsBefore + child.output;
    expect(logs).not.toMatch(/@mail\.example\.org/);
    expect(logs).not.toMatch(/192\.0\.2\./);
    expect(logs).not.toContain('test-secret-0123456789abcdef');
  });
});

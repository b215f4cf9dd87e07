import { Engine } from '../../src/engine';
import { initTopology } from '../../src/engine/provision';
import type { Alert, SliWindow } from '../../src/slo/records';
import { idleGroupId } from '../../src/sink/idle-delivery';
import { keys } from '../../src/state/keys';
import { createRedis, waitUntilReady } from '../../src/state/redis';
import { loadTopology } from '../../src/topology/load';
import { encodeV2, registerVersions, rewriteFixture, writeFixture, type Fixture } from '../helpers/engine-fixture';
import { deleteKeys } from '../helpers/events';
import { readDecoded } from '../helpers/outputs';
import { deleteTopics, kafka } from '../helpers/stack-env';

// Issue 19, item 1, "must show": every producer stops. The in-process engine's idle timer
// closes the buckets after the last event by the wall clock: every known series (two regions)
// gets an empty window (total 0) for each of them, and the no-data ticket fires at the first
// boundary whose window holds no event, published once. Assertions are on event-time content
// computed from the events the test sent, never on how long anything took.

const SECOND = 1000;
const BUCKET = SECOND; // the smallest bucket a topology may use that keeps the test short
const NO_DATA_WINDOW = 4 * SECOND; // the tier's long window
const EXTRA = `  windows: { bucket: 1s, allowedLateness: 1s, idleTimeout: 1s }
  slis:
    - name: checkout-success
      ratio: { good: "status == 'ok'", total: "type == 'checkout'" }
      groupBy: [region]
  slos:
    - name: checkout-availability
      sli: checkout-success
      objective: 0.99
      period: 1h
      minEvents: 1
      alerting:
        tiers: [{ severity: page, long: 4s, short: 1s, threshold: 1 }]
`;

let f: Fixture | undefined;
let engine: Engine | undefined;

afterAll(async () => {
  await engine?.stop().catch(() => undefined);
  if (!f) return;
  const redis = createRedis();
  await waitUntilReady(redis);
  await deleteKeys(redis, keys(f.name).prefix).catch(() => undefined);
  redis.disconnect();
  await deleteTopics(f.topics).catch(() => undefined);
  const admin = kafka('tracklane-test-idle-admin').admin();
  await admin.connect();
  await admin.deleteGroups([f.name, idleGroupId(f.name)]).catch(() => undefined);
  await admin.disconnect();
});

it('when every producer stops, empty windows follow the last event and the no-data alert fires once', async () => {
  f = writeFixture({ delivery: 'exactly-once', partitions: 2, enrich: ['- correlation: { field: correlation_id, header: traceparent, generate: true }'], extra: EXTRA });
  rewriteFixture(f, 'maxFutureSkew: 5m', 'maxFutureSkew: 1s');
  const topology = loadTopology(f.file);
  const { v2 } = await registerVersions(f.subject);
  await initTopology(topology);
  engine = new Engine({ topology, metricsPort: 0, instanceId: 'idle-close' });
  await engine.start();

  // A few seconds of traffic in two regions, then every producer stops.
  const producer = kafka('tracklane-test-idle-producer').producer();
  await producer.connect();
  let lastEventTime = 0;
  for (let round = 0; round < 6; round++) {
    const ts = Date.now();
    lastEventTime = Math.max(lastEventTime, ts);
    await producer.send({
      topic: f.raw,
      messages: ['eu', 'us'].map((region, p) => ({
        partition: p,
        key: `e${round}-${region}`,
        value: encodeV2(v2, { event_id: `e${round}-${region}`, ts, type: 'checkout', status: 'ok', region }),
      })),
    });
    await new Promise((r) => setTimeout(r, 400));
  }
  await producer.disconnect();

  const afterLast = Math.floor(lastEventTime / BUCKET) * BUCKET + BUCKET;
  // The first boundary whose no-data window [at - 4s, at) holds no event.
  const noDataAt = afterLast + NO_DATA_WINDOW;

  const first = await readDecoded<Alert>(f.alerts, { expected: 1, timeoutMs: 90_000, idleMs: 200 });
  expect(first.map((a) => a.value.tier)).toContain('no-data');
  // Grace: several more idle ticks, which must publish nothing more for this alert.
  await new Promise((r) => setTimeout(r, 5 * SECOND));

  // Burn rates moved on past the last event: no event in their windows any more.
  const burn = (await engine.metrics.burnRate.get()).values.filter((v) => v.labels.slo === 'checkout-availability');
  expect(burn.length).toBeGreaterThan(0);
  for (const v of burn) expect(v.value).toBeNaN();

  // While the silence lasts, every bucket brings new empty windows: stop to read to the end.
  await engine.stop();

  const alerts = (await readDecoded<Alert>(f.alerts, { idleMs: 2_000 })).map((a) => a.value);
  const noData = alerts.filter((a) => a.tier === 'no-data');
  expect(noData).toHaveLength(1);
  expect(noData[0]).toMatchObject({ status: 'firing', severity: 'ticket', slo: 'checkout-availability', starts_at: noDataAt });
  // All events were good: no burn-rate alert.
  expect(alerts.filter((a) => a.tier !== 'no-data')).toEqual([]);

  const windows = (await readDecoded<SliWindow>(f.metrics, { idleMs: 2_000 })).map((w) => w.value);
  for (const region of ['eu', 'us']) {
    const series = windows.filter((w) => w.labels.region === region);
    // Up to the no-data boundary at least, every bucket after the last event has its window, once, empty.
    for (let start = afterLast; start < noDataAt; start += BUCKET) {
      const found = series.filter((w) => w.window_start === start);
      expect({ region, start, found: found.map((w) => ({ total: w.total, good: w.good, ratio: w.ratio })) })
        .toEqual({ region, start, found: [{ total: 0, good: 0, ratio: null }] });
    }
    // Every event was counted in a window before that, each window once.
    const counted = series.filter((w) => w.total > 0);
    expect(counted.reduce((n, w) => n + w.total, 0)).toBe(6);
    expect(Math.max(...counted.map((w) => w.window_start))).toBeLessThan(afterLast);
    const keysSeen = series.map((w) => w.window_start);
    expect(new Set(keysSeen).size).toBe(keysSeen.length);
  }
}, 180_000);

import { randomBytes } from 'node:crypto';
import { readWireFrame } from '../../src/decode/wire';
import { IDLE_OWNER_TOPIC, SloObserver } from '../../src/slo/observer';
import { sliWindowType, type Alert, type SliWindow } from '../../src/slo/records';
import { keys as makeKeys } from '../../src/state/keys';
import { createRedis, loadScripts, waitUntilReady, type RedisClient } from '../../src/state/redis';
import type { OutputMessage } from '../../src/sink/output';
import type { SliSpec, SloSpec, Topology } from '../../src/topology/types';
import type { SliObservation } from '../../src/window/bucket';
import { SliWindowStore, type IdleClose, type SliTopology } from '../../src/window/store';
import { idleWatermark } from '../../src/window/watermark';
import { deleteKeys } from '../helpers/events';

// The idle (wall-clock) close at the Redis level: lease-1.lua, sliClose-3.lua in idle mode,
// the known series sliAdd-2.lua records, and SloObserver.closeIdle's ledger. Real Redis, a
// random key prefix per run, every key deleted afterwards. Clocks are passed in, not read.

const PREFIX = `tltest-${randomBytes(4).toString('hex')}`;
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 10, 0);
const TOPIC = 'raw.checkout';
const WINDOWS = { bucketMs: MIN, allowedLatenessMs: 2 * MIN, idleTimeoutMs: 30_000 };
const SKEW = 5 * MIN;

let redis: RedisClient;
let seq = 0;

beforeAll(async () => {
  redis = createRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  await waitUntilReady(redis);
});

afterAll(async () => {
  await deleteKeys(redis, PREFIX);
  redis.disconnect();
});

const regionSli = (maxSeries = 100): SliSpec => ({ name: 'ok', kind: 'ratio', good: 'true', total: 'true', groupBy: ['region'], maxSeries });
const noDataSlo: SloSpec = {
  name: 'ok-slo', sli: 'ok', objective: 0.99, periodMs: 60 * MIN, minEvents: 1,
  tiers: [{ name: '5m/1m', severity: 'page', longWindowMs: 5 * MIN, shortWindowMs: MIN, threshold: 1 }],
};

function setup(slis: SliSpec[], slos: SloSpec[] = [], maxClaim?: number) {
  const topology: SliTopology = { name: `idle${++seq}-${randomBytes(3).toString('hex')}`, windows: WINDOWS, slis, slos };
  const keys = makeKeys(topology.name, PREFIX);
  return { topology, keys, store: new SliWindowStore(redis, keys, topology, { maxClaim }) };
}

/** One event per (minute, region) on a partition, offsets from `from`, counted at wall clock `nowMs`. */
async function count(store: SliWindowStore, partition: number, from: number, minutes: number[], regions: string[], nowMs: number) {
  const observations: SliObservation[] = [];
  for (const m of minutes) {
    for (const region of regions) {
      observations.push({ sli: 'ok', labels: { region }, good: true, eventTime: T0 + m * MIN + 1, topic: TOPIC, partition, offset: String(from + observations.length) });
    }
  }
  const maxEventTime = Math.max(...observations.map((o) => o.eventTime));
  await store.addBatch([{ topic: TOPIC, partition, lastOffset: String(from + observations.length - 1), maxEventTime }], observations, nowMs);
  return maxEventTime;
}

const idleAs = (holder: string): IdleClose => ({ holder, leaseMs: 10_000, maxFutureSkewMs: SKEW });
const owner = (first: number, last = first) => ({ topic: IDLE_OWNER_TOPIC, partition: 0, firstOffset: String(first), lastOffset: String(last) });
const summary = (ws: SliWindow[]) => ws.map((w) => `${w.labels.region}@${(w.window_start - T0) / MIN}:${w.total}`).sort();

describe('lease-1.lua', () => {
  test('one holder at a time: taken when free, renewed by its holder, refused to others', async () => {
    const { keys } = setup([regionSli()]);
    const scripts = loadScripts(redis);
    const take = (holder: string, ttl: number) => scripts.run('lease', [keys.sliIdleLease()], [holder, String(ttl)]);
    expect(await take('a', 10_000)).toBe(1);
    expect(await take('b', 10_000)).toBe(0);
    expect(await redis.get(keys.sliIdleLease())).toBe('a');
    expect(await take('a', 20_000)).toBe(1); // renewed: the TTL is the new one
    expect(await redis.pttl(keys.sliIdleLease())).toBeGreaterThan(10_000);
    await redis.del(keys.sliIdleLease()); // as when its TTL runs out
    expect(await take('b', 10_000)).toBe(1);
    expect(await take('a', 10_000)).toBe(0);
  });
});

describe('sliClose-3.lua, idle mode', () => {
  test('all idle: the wall-clock watermark, and an empty window for every known series (label sets and __other__) in each bucket it closes', async () => {
    const { store } = setup([regionSli(2)]);
    const countedAt = T0 + 3 * MIN;
    const high0 = await count(store, 0, 0, [0, 1, 2], ['eu', 'us', 'apac'], countedAt); // apac over maxSeries: __other__
    const high1 = await count(store, 1, 0, [1], ['eu'], countedAt);
    const now = T0 + 20 * MIN;
    const expected = idleWatermark(
      [{ topic: TOPIC, partition: 0, highEventTime: high0, lastActiveMs: countedAt }, { topic: TOPIC, partition: 1, highEventTime: high1, lastActiveMs: countedAt }],
      now,
      { ...WINDOWS, maxFutureSkewMs: SKEW },
    );
    expect(expected).toBe(T0 + 13 * MIN);
    const closed = await store.closeBuckets({ owner: owner(0), nowMs: now, idle: idleAs('a') });
    expect(closed).toMatchObject({ status: 'ok', watermark: expected, closedThrough: T0 + 13 * MIN });
    const want: string[] = [];
    for (const region of ['eu', 'us', '__other__']) {
      for (let m = 0; m < 13; m++) want.push(`${region}@${m}:${m <= 2 ? (region === 'eu' && m === 1 ? 2 : 1) : 0}`);
    }
    expect(summary(closed.windows)).toEqual(want.sort());
    for (const w of closed.windows.filter((x) => x.total === 0)) expect(w).toMatchObject({ good: 0, ratio: null, late_events: 0, latency: null });
    // the clock moves on: the next buckets, nothing twice
    const next = await store.closeBuckets({ owner: owner(1), nowMs: now + 2 * MIN, idle: idleAs('a') });
    expect(next.closedThrough).toBe(T0 + 15 * MIN);
    expect(summary(next.windows)).toEqual(['__other__@13:0', '__other__@14:0', 'eu@13:0', 'eu@14:0', 'us@13:0', 'us@14:0']);
  });

  test('another holder of the lease: busy, nothing claimed; an active partition: nothing new claimed', async () => {
    const { store, keys } = setup([regionSli()]);
    await count(store, 0, 0, [0], ['eu'], T0 + MIN);
    const now = T0 + 20 * MIN;
    expect(await store.takeIdleLease('a', 10_000)).toBe(true);
    const busy = await store.closeBuckets({ owner: owner(0), nowMs: now, idle: idleAs('b') });
    expect(busy).toMatchObject({ status: 'busy', closedThrough: null, windows: [] });
    expect(await redis.zcard(keys.sliOpenWindows())).toBe(1);
    // partition 1 delivered 10 s ago: the batches close, the timer does not
    await store.addBatch([{ topic: TOPIC, partition: 1, lastOffset: '0' }], [], now - 10_000);
    const active = await store.closeBuckets({ owner: owner(0), nowMs: now, idle: idleAs('a') });
    expect(active).toMatchObject({ status: 'active', watermark: null, closedThrough: null, windows: [] });
    const idle = await store.closeBuckets({ owner: owner(0), nowMs: now + 30_000, idle: idleAs('a') });
    expect(idle.status).toBe('ok');
    expect(idle.closedThrough).toBe(T0 + 13 * MIN); // floor(now + 30 s - 7 min) to the minute
  });

  test('at most maxClaim windows per close, whole buckets; closed stops at the last bucket filled', async () => {
    const { store } = setup([regionSli()], [], 5);
    await count(store, 0, 0, [0], ['eu', 'us'], T0 + MIN);
    const now = T0 + 20 * MIN;
    const first = await store.closeBuckets({ owner: owner(0), nowMs: now, idle: idleAs('a') });
    // 2 series a bucket: a third bucket would make 6 > 5, so closed stops after bucket 1
    expect(first.closedThrough).toBe(T0 + 2 * MIN);
    expect(summary(first.windows)).toEqual(['eu@0:1', 'eu@1:0', 'us@0:1', 'us@1:0']);
    const second = await store.closeBuckets({ owner: owner(1), nowMs: now, idle: idleAs('a') });
    expect(second.closedThrough).toBe(T0 + 4 * MIN);
    expect(summary(second.windows)).toEqual(['eu@2:0', 'eu@3:0', 'us@2:0', 'us@3:0']);
  });
});

describe('SloObserver.closeIdle', () => {
  function observer() {
    const { topology, keys, store } = setup([regionSli()], [noDataSlo]);
    const full = { ...topology, sources: [], enrich: [], outputs: { metrics: { topic: 'metrics' }, alerts: { topic: 'alerts', format: 'json' } } } as unknown as Topology;
    return { keys, store, slo: new SloObserver({ topology: full, redis, keys, schemaIds: { sliWindow: 1 } }) };
  }
  const decodeAll = (ms: OutputMessage[]) => ({
    windows: ms.filter((m) => m.topic === 'metrics').map((m) => ({ key: m.key, value: sliWindowType.fromBuffer(readWireFrame(m.value!).payload) as SliWindow })),
    alerts: ms.filter((m) => m.topic === 'alerts').map((m) => JSON.parse(m.value!.toString()) as Alert),
  });

  test('fires the no-data ticket at the first silent window; a retry hands out the same records, a delivered close nothing again', async () => {
    const { store, slo } = observer();
    await count(store, 0, 0, [0, 1], ['eu', 'us'], T0 + 2 * MIN);
    const idle = idleAs('a');
    const now = T0 + 30 * MIN; // watermark: now - 7 min -> 23 buckets closed
    const first = decodeAll((await slo.closeIdle({ first: '0', seq: '0', idle, nowMs: now })).messages);
    // no event in [at - 5m, at) first at at = minute 7 (the last event was in minute 1)
    expect(first.alerts).toHaveLength(1);
    expect(first.alerts[0]).toMatchObject({ tier: 'no-data', status: 'firing', severity: 'ticket', starts_at: T0 + 7 * MIN, dedup_key: expect.stringContaining('no-data') });
    expect(first.windows).toHaveLength(2 * 23);
    expect(first.windows.filter((w) => w.value.window_start >= T0 + 2 * MIN).every((w) => w.value.total === 0)).toBe(true);
    // the delivery failed: the same sequence again gives the same windows (keys, content) and alerts
    const retry = decodeAll((await slo.closeIdle({ first: '0', seq: '0', idle, nowMs: now + 1000 })).messages);
    expect(retry.alerts).toEqual(first.alerts);
    const strip = (ws: typeof first.windows) => ws.map((w) => ({ key: w.key, value: { ...w.value, emitted_at: 0 } }));
    expect(strip(retry.windows)).toEqual(strip(first.windows));
    // delivered: the next sequence publishes only what is new (nothing within the same minute)
    const next = await slo.closeIdle({ first: '1', seq: '1', idle, nowMs: now + 1000 });
    expect(next).toEqual({ status: 'ok', messages: [] });
  });
});

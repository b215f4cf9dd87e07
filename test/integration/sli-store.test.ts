import { randomBytes } from 'node:crypto';
import { keys as makeKeys } from '../../src/state/keys';
import { createMetrics } from '../../src/observability/metrics';
import { createRedis, waitUntilReady, type RedisClient } from '../../src/state/redis';
import { deleteKeysWithPrefix } from '../../src/state/scan';
import { SloObserver } from '../../src/slo/observer';
import { sliWindowType, type SliWindow } from '../../src/slo/records';
import { SloStore } from '../../src/slo/store';
import type { OutputMessage } from '../../src/sink/output';
import { googleSreTiers, THIRTY_DAYS } from '../../src/topology/tiers';
import type { SliSpec, SloSpec, SourceSpec, Topology } from '../../src/topology/types';
import type { SliObservation } from '../../src/window/bucket';
import { computeWatermark } from '../../src/window/watermark';
import { SliWindowStore, type SliTopology } from '../../src/window/store';

// Real Redis, a random key prefix per run, every key deleted afterwards.

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `tltest-${randomBytes(4).toString('hex')}`;
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 10, 0);
const TOPIC = 'raw.checkout';

let redis: RedisClient;
let redis2: RedisClient;
let seq = 0;

const ratio = (name: string, groupBy: string[] = [], maxSeries = 100): SliSpec => ({ name, kind: 'ratio', good: 'true', total: 'true', groupBy, maxSeries });
const latencySli: SliSpec = { name: 'lat', kind: 'latency', field: 'duration_ms', threshold: 300, groupBy: [], maxSeries: 100 };

function setup(slis: SliSpec[], slos: SloSpec[] = []) {
  const topology: SliTopology = {
    name: `t${++seq}-${randomBytes(3).toString('hex')}`,
    windows: { bucketMs: MIN, allowedLatenessMs: 2 * MIN, idleTimeoutMs: 30_000 },
    slis,
    slos,
  };
  const keys = makeKeys(topology.name, PREFIX);
  return { topology, keys, a: new SliWindowStore(redis, keys, topology), b: new SliWindowStore(redis2, keys, topology) };
}

function obs(sli: string, partition: number, offset: number, eventTime: number, good = true, labels: Record<string, string> = {}, latencyValue?: number): SliObservation {
  return { sli, labels, good, eventTime, topic: TOPIC, partition, offset: String(offset), latencyValue };
}

/** One batch of `n` events on a partition, offsets from..from+n-1, event time at T0 + minute. */
function batch(sli: string, partition: number, from: number, n: number, minute: number, bad = 0) {
  const observations = Array.from({ length: n }, (_, i) => obs(sli, partition, from + i, T0 + minute * MIN + i, i >= bad));
  return { parts: [{ topic: TOPIC, partition, lastOffset: String(from + n - 1), maxEventTime: T0 + minute * MIN + n - 1 }], observations };
}

beforeAll(async () => {
  redis = createRedis({ url: REDIS_URL });
  redis2 = createRedis({ url: REDIS_URL });
  await Promise.all([waitUntilReady(redis), waitUntilReady(redis2)]);
});

afterAll(async () => {
  await deleteKeysWithPrefix(redis, `${PREFIX}:`);
  redis.disconnect();
  redis2.disconnect();
});

test('the fence prevents double counting when a batch is replayed, fully or in part', async () => {
  const { a } = setup([ratio('ok')]);
  const first = batch('ok', 0, 0, 10, 0, 2);
  expect(await a.addBatch(first.parts, first.observations)).toMatchObject({ counted: 10, skipped: 0, late: 0 });
  expect(await a.addBatch(first.parts, first.observations)).toMatchObject({ counted: 0, skipped: 10 });
  // a replay with other batch boundaries: offsets 5..14, of which 5..9 were counted
  const overlap = batch('ok', 0, 5, 10, 0, 0);
  const r = await a.addBatch(overlap.parts, overlap.observations);
  expect(r).toMatchObject({ counted: 5, skipped: 5 });
  expect(r.outcomes.map((o) => o.counted)).toEqual([false, false, false, false, false, true, true, true, true, true]);
  const closed = await a.closeBuckets({ watermark: T0 + MIN });
  expect(closed.windows).toHaveLength(1);
  expect(closed.windows[0]).toMatchObject({ sli: 'ok', window_start: T0, window_end: T0 + MIN, good: 13, total: 15, late_events: 0 });
  expect(closed.windows[0].ratio).toBeCloseTo(13 / 15, 12);
});

test('two store instances on the same keys add up', async () => {
  const { a, b } = setup([ratio('ok')]);
  const work: Promise<unknown>[] = [];
  for (let i = 0; i < 20; i++) {
    const x = batch('ok', 0, i * 50, 50, 0, 1);
    const y = batch('ok', 1, i * 50, 50, 0, 2);
    work.push(a.addBatch(x.parts, x.observations), b.addBatch(y.parts, y.observations));
  }
  await Promise.all(work);
  const { windows } = await b.closeBuckets({ watermark: T0 + MIN });
  expect(windows).toHaveLength(1);
  expect(windows[0]).toMatchObject({ total: 2000, good: 2000 - 20 - 40 });
});

test('each bucket is claimed exactly once by two concurrent closers', async () => {
  const { a, b } = setup([ratio('ok', ['region'])]);
  const observations: SliObservation[] = [];
  let offset = 0;
  for (let minute = 0; minute < 30; minute++) {
    for (let r = 0; r < 10; r++) observations.push(obs('ok', 0, offset++, T0 + minute * MIN, true, { region: `r${r}` }));
  }
  await a.addBatch([{ topic: TOPIC, partition: 0, lastOffset: String(offset - 1) }], observations);
  // both instances race for every watermark step
  const claims = await Promise.all(
    Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).closeBuckets({ watermark: T0 + (Math.floor(i / 2) + 1) * MIN })),
  );
  const seen = claims.flatMap((c) => c.windows.map((w) => `${w.labels.region}@${w.window_start}`));
  expect(seen).toHaveLength(300);
  expect(new Set(seen).size).toBe(300);
});

test('the emit ledger carries windows again until the owning batch is committed', async () => {
  const { a, b } = setup([ratio('ok')]);
  const x = batch('ok', 0, 0, 5, 0);
  await a.addBatch(x.parts, x.observations);
  const owner = { topic: TOPIC, partition: 3, firstOffset: '100', lastOffset: '110' };
  const first = await a.closeBuckets({ owner, watermark: T0 + MIN });
  expect(first.windows).toHaveLength(1);
  // the batch failed before its commit: another instance replays it from offset 100 (smaller chunk)
  const replay = await b.closeBuckets({ owner: { ...owner, lastOffset: '104' }, watermark: T0 + MIN });
  expect(replay.windows.map((w) => [w.window_start, w.total])).toEqual([[T0, 5]]);
  // the next batch starts after 104: the replayed one was committed, nothing is carried
  const next = await a.closeBuckets({ owner: { ...owner, firstOffset: '105', lastOffset: '120' }, watermark: T0 + MIN });
  expect(next.windows).toEqual([]);
  const again = await a.closeBuckets({ owner: { ...owner, firstOffset: '121', lastOffset: '130' }, watermark: T0 + MIN });
  expect(again.windows).toEqual([]);
});

test('an event whose bucket has closed is late: counted on the next window of its series', async () => {
  const { a } = setup([ratio('ok')]);
  const x = batch('ok', 0, 0, 3, 0);
  await a.addBatch(x.parts, x.observations);
  await a.closeBuckets({ watermark: T0 + 2 * MIN });
  const lateOne = [obs('ok', 0, 3, T0 + 30_000, false)];
  const r = await a.addBatch([{ topic: TOPIC, partition: 0, lastOffset: '3' }], lateOne);
  expect(r).toMatchObject({ counted: 1, late: 1 });
  expect(r.outcomes[0]).toMatchObject({ counted: true, late: true });
  const { windows } = await a.closeBuckets({ watermark: T0 + 3 * MIN });
  expect(windows).toEqual([expect.objectContaining({ window_start: T0 + 2 * MIN, good: 0, total: 0, ratio: null, late_events: 1 })]);
});

test('label sets beyond maxSeries count as __other__, the same on every instance', async () => {
  const { a, b } = setup([ratio('ok', ['region'], 2)]);
  const o = (p: number, off: number, region: string) => obs('ok', p, off, T0, true, { region });
  const r1 = await a.addBatch([{ topic: TOPIC, partition: 0, lastOffset: '1' }], [o(0, 0, 'eu'), o(0, 1, 'us')]);
  const r2 = await b.addBatch([{ topic: TOPIC, partition: 1, lastOffset: '2' }], [o(1, 0, 'ap'), o(1, 1, 'eu'), o(1, 2, 'sa')]);
  expect(r1.outcomes.map((x) => x.counted && x.labels.region)).toEqual(['eu', 'us']);
  expect(r2.outcomes.map((x) => x.counted && x.labels.region)).toEqual(['__other__', 'eu', '__other__']);
  const { windows } = await a.closeBuckets({ watermark: T0 + MIN });
  expect(windows.map((w) => [w.labels.region, w.total]).sort()).toEqual([['__other__', 2], ['eu', 2], ['us', 1]]);
});

test('latency windows: DDSketch percentiles within 1%, exact max, merged across instances', async () => {
  const { a, b } = setup([latencySli]);
  const values = Array.from({ length: 1000 }, (_, i) => i + 1); // 1..1000 ms
  const mk = (p: number, vs: number[]) => vs.map((v, i) => obs('lat', p, i, T0 + i, v <= 300, {}, v));
  await Promise.all([
    a.addBatch([{ topic: TOPIC, partition: 0, lastOffset: '499' }], mk(0, values.slice(0, 500))),
    b.addBatch([{ topic: TOPIC, partition: 1, lastOffset: '499' }], mk(1, values.slice(500))),
  ]);
  const [w] = (await a.closeBuckets({ watermark: T0 + MIN })).windows;
  expect(w).toMatchObject({ good: 300, total: 1000 });
  expect(w.latency!.count).toBe(1000);
  expect(w.latency!.max).toBe(1000);
  for (const [q, exact] of [['p50', 500], ['p95', 950], ['p99', 990]] as const) {
    expect(Math.abs(w.latency![q] - exact) / exact).toBeLessThanOrEqual(0.0101);
  }
});

test('the shared watermark follows computeWatermark: idle partitions stop holding it back', async () => {
  const { topology, a, b } = setup([ratio('ok')]);
  const now = Date.now();
  // p0 at minute 10 (active), p1 at minute 4 (active), p2 at minute 1 but idle
  const x = batch('ok', 0, 0, 1, 10);
  const y = batch('ok', 1, 0, 1, 4);
  const z = batch('ok', 2, 0, 1, 1);
  await b.addBatch(z.parts, z.observations, now - 60_000);
  await a.addBatch(x.parts, x.observations, now);
  await b.addBatch(y.parts, y.observations, now - 1000);
  const expected = computeWatermark(
    [
      { topic: TOPIC, partition: 0, highEventTime: T0 + 10 * MIN, lastActiveMs: now },
      { topic: TOPIC, partition: 1, highEventTime: T0 + 4 * MIN, lastActiveMs: now - 1000 },
      { topic: TOPIC, partition: 2, highEventTime: T0 + 1 * MIN, lastActiveMs: now - 60_000 },
    ],
    now,
    topology.windows,
  );
  expect(expected).toBe(T0 + 2 * MIN);
  const closed = await a.closeBuckets({ nowMs: now });
  expect(closed.watermark).toBe(expected);
  expect(closed.closedThrough).toBe(T0 + 2 * MIN);
  expect(closed.windows.map((w) => w.window_start)).toEqual([T0 + MIN]); // minute 1 closed; 4 and 10 open
  // a partition (re)assigned holds the watermark back again until idle
  await a.assignPartitions([{ topic: TOPIC, partitions: [2] }], now);
  const held = await b.closeBuckets({ nowMs: now });
  expect(held.watermark).toBe(T0 - MIN); // p2 counts again...
  expect(held.closedThrough).toBe(T0 + 2 * MIN); // ...but what is closed stays closed
  expect(held.windows).toEqual([]);
  // everything idle: the highest event time minus lateness, so the tail is emitted
  const later = await b.closeBuckets({ nowMs: now + 120_000 });
  expect(later.watermark).toBe(T0 + 8 * MIN);
  expect(later.windows.map((w) => w.window_start)).toEqual([T0 + 4 * MIN]);
});

test('a partition assigned with its backlog unread holds the shared watermark back until it delivers or idles', async () => {
  const { a, b } = setup([ratio('ok')]);
  const now = Date.now();
  await a.assignPartitions([{ topic: TOPIC, partitions: [0, 1] }], now);
  const x = batch('ok', 0, 0, 1, 10);
  await a.addBatch(x.parts, x.observations, now);
  const waiting = await a.closeBuckets({ nowMs: now });
  expect(waiting.watermark).toBeNull(); // p1 may still hold minute 0
  expect(waiting.windows).toEqual([]);
  const y = batch('ok', 1, 0, 1, 0);
  await b.addBatch(y.parts, y.observations, now);
  const both = await b.closeBuckets({ nowMs: now });
  expect(both.watermark).toBe(T0 - 2 * MIN);
  const late = await b.addBatch(y.parts.map((p) => ({ ...p, lastOffset: '1' })), [{ ...y.observations[0], offset: '1' }], now);
  expect(late.late).toBe(0); // minute 0 was never closed under p1's feet
  // a partition that never delivers stops holding it back after idleTimeout
  await a.assignPartitions([{ topic: TOPIC, partitions: [2] }], now);
  expect((await a.closeBuckets({ nowMs: now + 1000 })).watermark).toBeNull();
  expect((await a.closeBuckets({ nowMs: now + 120_000 })).watermark).toBe(T0 + 8 * MIN);
});

test('every key written has a TTL', async () => {
  const { keys, a } = setup([ratio('ok', ['region'])], [slo('ok')]);
  const x = batch('ok', 0, 0, 10, 0, 1);
  await a.addBatch(x.parts, x.observations.map((o) => ({ ...o, labels: { region: 'eu' } })));
  await a.closeBuckets({ owner: { topic: TOPIC, partition: 0, firstOffset: '0', lastOffset: '9' }, watermark: T0 + MIN });
  const found = await (redis as import('ioredis').Redis).keys(`${keys.prefix}*`);
  expect(found.length).toBeGreaterThanOrEqual(6);
  for (const k of found) expect(await redis.pttl(k)).toBeGreaterThan(0);
});

function slo(sli: string, minEvents = 10): SloSpec {
  return { name: `${sli}-slo`, sli, objective: 0.999, periodMs: THIRTY_DAYS, minEvents, tiers: googleSreTiers(THIRTY_DAYS) };
}

describe('SloStore', () => {
  test('evaluates closed boundaries once; a second instance commits nothing and a replayed batch carries the alerts again', async () => {
    const { topology, keys, a } = setup([ratio('ok')], [slo('ok')]);
    // 20 minutes: 1,000 events a minute, the last 10 minutes at 20% errors
    let offset = 0;
    for (let m = 0; m < 20; m++) {
      const x = batch('ok', 0, offset, 1000, m, m >= 10 ? 200 : 0);
      offset += 1000;
      await a.addBatch(x.parts, x.observations);
    }
    await a.closeBuckets({ watermark: T0 + 20 * MIN });
    const s1 = new SloStore(redis, keys, topology);
    const s2 = new SloStore(redis2, keys, topology);
    const owner = { topic: TOPIC, partition: 0, firstOffset: '0', lastOffset: '50' };
    const [r1, r2] = await Promise.all([s1.evaluate({ owner }), s2.evaluate({ owner: { ...owner, partition: 1 } })]);
    const all = [...r1.alerts, ...r2.alerts];
    // 20% errors is a burn rate of 200: the 1h/5m page fires (timings: slo-scenarios.test.ts).
    // Only one of the two evaluations commits, so each transition appears once.
    expect(all.filter((x) => x.tier === '1h/5m' && x.status === 'firing')).toHaveLength(1);
    expect(new Set(all.map((x) => `${x.dedup_key}|${x.status}`)).size).toBe(all.length);
    expect(r1.evaluatedThrough ?? r2.evaluatedThrough).toBe(T0 + 20 * MIN);
    expect(r1.gauges?.at).toBe(T0 + 20 * MIN);
    expect(r2.gauges?.at).toBe(T0 + 20 * MIN);
    // nothing new: no alerts, gauges kept
    expect((await s1.evaluate()).alerts).toEqual([]);
    // the winner's batch is replayed: its ledger entry carries the alerts again
    const winner = r1.alerts.length > 0 ? owner : { ...owner, partition: 1 };
    const replay = await new SliWindowStore(redis, keys, topology).closeBuckets({ owner: winner, watermark: T0 + 20 * MIN });
    expect(replay.replayedAlerts).toEqual(all);
    const committed = await a.closeBuckets({ owner: { ...winner, firstOffset: '51', lastOffset: '60' }, watermark: T0 + 20 * MIN });
    expect(committed.replayedAlerts).toEqual([]);
  });

  test('alert state survives a restart: a new store neither repeats nor loses transitions', async () => {
    const { topology, keys, a } = setup([ratio('ok')], [slo('ok')]);
    let offset = 0;
    const feed = async (from: number, to: number, bad: (m: number) => number) => {
      for (let m = from; m < to; m++) {
        const x = batch('ok', 0, offset, 1000, m, bad(m));
        offset += 1000;
        await a.addBatch(x.parts, x.observations);
      }
      await a.closeBuckets({ watermark: T0 + to * MIN });
    };
    await feed(0, 15, (m) => (m >= 5 ? 300 : 0));
    const fired = await new SloStore(redis, keys, topology).evaluate();
    expect(fired.alerts.filter((x) => x.tier === '1h/5m').map((x) => x.status)).toEqual(['firing']);
    await feed(15, 20, (m) => (m >= 5 ? 300 : 0));
    expect((await new SloStore(redis, keys, topology).evaluate()).alerts.filter((x) => x.tier === '1h/5m')).toEqual([]);
    await feed(20, 30, () => 0);
    const resolved = (await new SloStore(redis, keys, topology).evaluate()).alerts.filter((x) => x.tier === '1h/5m');
    expect(resolved.map((x) => [x.status, x.starts_at])).toEqual([['resolved', fired.alerts.find((x) => x.tier === '1h/5m')!.starts_at]]);
  });
});

describe('SloObserver (what the consume loop calls per batch)', () => {
  test('windows and alerts come out once per committed batch; a replayed batch carries the same ones', async () => {
    const okSli: SliSpec = { name: 'ok', kind: 'ratio', good: "status == 'ok'", total: 'true', groupBy: [], maxSeries: 100 };
    const base = setup([okSli], [slo('ok')]);
    const topology = {
      ...base.topology,
      enrich: [],
      outputs: { enriched: { topic: 'e' }, deadLetter: { topic: 'd' }, metrics: { topic: 'm' }, alerts: { topic: 'a', format: 'json' as const } },
    } as unknown as Topology;
    const observer = new SloObserver({ topology, redis, keys: base.keys, schemaIds: { sliWindow: 7 }, now: () => 1_000 });
    const source = { name: 'web', topic: TOPIC } as SourceSpec;
    const minuteBatch = (m: number) =>
      Array.from({ length: 100 }, (_, i) => ({
        source, topic: TOPIC, partition: 0, offset: String(m * 100 + i), timestamp: 0, key: null, value: null, headers: {},
        meta: { steps: [], pseudonymized: [] }, eventTime: T0 + m * MIN + i * 100,
        record: { status: m >= 10 && i < 20 ? 'failed' : 'ok' },
      }));
    const commitOf = (m: number) => ({ topic: TOPIC, partition: 0, nextOffset: String(m * 100 + 100) });
    const windows: SliWindow[] = [];
    const alerts: Array<{ tier: string; status: string }> = [];
    const collect = (msgs: OutputMessage[]) => {
      for (const msg of msgs) {
        if (msg.topic === 'm') windows.push(sliWindowType.fromBuffer(msg.value.subarray(5)) as SliWindow);
        else alerts.push(JSON.parse(msg.value.toString()));
      }
    };
    for (let m = 0; m < 20; m++) collect(await observer.observe(minuteBatch(m), commitOf(m)));
    // watermark = minute 19.99 - 2 min lateness: minutes 0..16 closed, each exactly once
    expect(windows.map((w) => (w.window_start - T0) / MIN)).toEqual(Array.from({ length: 17 }, (_, i) => i));
    expect(windows.map((w) => [w.good, w.total])).toEqual(Array.from({ length: 17 }, (_, i) => (i >= 10 ? [80, 100] : [100, 100])));
    expect(alerts.filter((x) => x.tier === '1h/5m')).toEqual([expect.objectContaining({ status: 'firing' })]);

    // the last batch is delivered again (its transaction failed): same output, no double count
    const before = windows.length;
    const again: SliWindow[] = [];
    for (const msg of await observer.observe(minuteBatch(19), commitOf(19))) {
      if (msg.topic === 'm') again.push(sliWindowType.fromBuffer(msg.value.subarray(5)) as SliWindow);
    }
    expect(again.map((w) => w.window_start)).toEqual(windows.slice(before - 1).map((w) => w.window_start));
    expect(again.every((w) => w.total === 100)).toBe(true);
    // the next batch implies the replay was committed: nothing is carried over again
    const next = await observer.observe(minuteBatch(20), commitOf(20));
    const nextWindows = next.filter((msg) => msg.topic === 'm').map((msg) => (sliWindowType.fromBuffer(msg.value.subarray(5)) as SliWindow).window_start);
    expect(nextWindows).toEqual([T0 + 17 * MIN]);
  });
});

describe('metrics with several instances (issue 15)', () => {
  const regionSli: SliSpec = { name: 'ok', kind: 'ratio', good: "status == 'ok'", total: 'true', groupBy: ['region'], maxSeries: 100 };
  const source = { name: 'web', topic: TOPIC } as SourceSpec;
  const minuteBatch = (m: number) =>
    Array.from({ length: 100 }, (_, i) => ({
      source, topic: TOPIC, partition: 0, offset: String(m * 100 + i), timestamp: 0, key: null, value: null, headers: {},
      meta: { steps: [], pseudonymized: [] }, eventTime: T0 + m * MIN + i * 100,
      // region eu is down from the start: not one good event, ever
      record: { status: i % 2 === 0 ? 'ok' : 'failed', region: i % 2 === 0 ? 'us' : 'eu' },
    }));
  const commitOf = (m: number) => ({ topic: TOPIC, partition: 0, nextOffset: String(m * 100 + 100) });
  const value = async (metric: { get(): Promise<{ values: Array<{ labels: Record<string, unknown>; value: number }> }> }, labels: Record<string, string>) =>
    (await metric.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;

  test('a label set with zero good events has a good series at 0; SLO gauges follow the instance that evaluates', async () => {
    const base = setup([regionSli], [slo('ok')]);
    const topology = {
      ...base.topology,
      enrich: [],
      outputs: { enriched: { topic: 'e' }, deadLetter: { topic: 'd' }, metrics: { topic: 'm' }, alerts: { topic: 'a', format: 'json' as const } },
    } as unknown as Topology;
    const mA = createMetrics(topology.name, ['region']);
    const mB = createMetrics(topology.name, ['region']);
    const a = new SloObserver({ topology, redis, keys: base.keys, schemaIds: { sliWindow: 7 }, metrics: mA, now: () => 1_000 });
    const b = new SloObserver({ topology, redis: redis2, keys: base.keys, schemaIds: { sliWindow: 7 }, metrics: mB, now: () => 1_000 });

    for (let m = 0; m < 20; m++) await a.observe(minuteBatch(m), commitOf(m));
    expect(await value(mA.sliEvents, { sli: 'ok', region: 'eu' })).toBe(1000);
    expect(await value(mA.sliGood, { sli: 'ok', region: 'eu' })).toBe(0);
    expect(await value(mA.sliGood, { sli: 'ok', region: 'us' })).toBe(1000);
    // A evaluated: it exports the gauges (eu at 100% errors pages)
    expect(await value(mA.alertFiring, { slo: 'ok-slo', tier: '1h/5m' })).toBe(1);
    expect((await mB.alertFiring.get()).values).toEqual([]);

    // the partition moves to B, whose next batch closes and evaluates the next boundary
    await b.observe(minuteBatch(20), commitOf(20));
    expect(await value(mB.alertFiring, { slo: 'ok-slo', tier: '1h/5m' })).toBe(1);
    expect((await mB.budgetRemaining.get()).values).toHaveLength(1);
    // A learns on its next idle tick that its values are stale, and removes them
    await a.checkGaugeOwnership();
    expect((await mA.alertFiring.get()).values).toEqual([]);
    expect((await mA.budgetRemaining.get()).values).toEqual([]);
    expect((await mA.burnRate.get()).values).toEqual([]);
    // B still owns the latest boundary: its tick keeps them
    await b.checkGaugeOwnership();
    expect(await value(mB.alertFiring, { slo: 'ok-slo', tier: '1h/5m' })).toBe(1);
  });
});

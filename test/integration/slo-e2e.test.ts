import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { initTopology } from '../../src/engine/provision';
import type { Alert, SliWindow } from '../../src/slo/records';
import { keys } from '../../src/state/keys';
import { createRedis, waitUntilReady } from '../../src/state/redis';
import { loadTopology } from '../../src/topology/load';
import { ChildEngine } from '../helpers/child-engine';
import { CommittedWatch, waitForInputCommitted } from '../helpers/committed-watch';
import { checkoutSlisYaml, encodeV2, registerVersions, writeFixture, type Fixture, type Order } from '../helpers/engine-fixture';
import { deleteKeys } from '../helpers/events';
import { readDecoded } from '../helpers/outputs';
import { referenceAlerts as sliReferenceAlerts, TIERS, type Transition } from '../helpers/sli-truth';
import { deleteTopics, kafka } from '../helpers/stack-env';
import { prng } from '../../src/demo/traffic';

// Issue 5's "must show", through the real engine (child processes, `npm run build` first),
// Kafka, the registry and Redis. Event times are synthetic, starting days ago, so days of
// traffic pass in seconds; every expectation is computed here from the events the test
// produced, never from the engine's output.

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const PARTITIONS = 4;
const ENRICH = ['- correlation: { field: correlation_id, header: traceparent, generate: true }'];

// ---------------------------------------------------------------------------------------
// Shared plumbing: fixtures, engines, production, progress, cleanup.

interface Setup {
  f: Fixture;
  schemaId: number;
  engines: Map<string, ChildEngine>;
  /** Output of every engine process that ended, for failure messages. */
  logs: string[];
}

const setups: Setup[] = [];

async function prepare(extra: string): Promise<Setup> {
  const f = writeFixture({ delivery: 'exactly-once', partitions: PARTITIONS, enrich: ENRICH, extra });
  const { v2 } = await registerVersions(f.subject);
  await initTopology(loadTopology(f.file));
  const s: Setup = { f, schemaId: v2, engines: new Map(), logs: [] };
  setups.push(s);
  return s;
}


async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false> | T | undefined | false, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function startEngine(s: Setup, instance: string): ChildEngine {
  const engine = new ChildEngine(s.f.file, {}, instance);
  engine.start();
  s.engines.set(instance, engine);
  return engine;
}

async function waitRunning(engine: ChildEngine): Promise<void> {
  await until('engine start', 2 * MIN, () => engine.output.includes('engine running'));
}

/** kill -9, and wait until the process is really gone. */
async function kill9(s: Setup, instance: string): Promise<void> {
  const engine = s.engines.get(instance)!;
  const proc = (engine as unknown as { child: ChildProcess }).child;
  const gone = new Promise<void>((resolve) => (proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.once('exit', () => resolve())));
  engine.kill9();
  await gone;
  s.logs.push(`[${instance}, killed]\n${engine.output}`);
  s.engines.delete(instance);
}

async function stopAll(s: Setup): Promise<void> {
  for (const [instance, engine] of s.engines) {
    const stopped = engine.stop();
    const timer = new Promise<void>((r) => setTimeout(r, 30_000).unref());
    if ((await Promise.race([stopped.then(() => true), timer.then(() => false)])) === false) engine.kill9();
    s.logs.push(`[${instance}]\n${engine.output}`);
  }
  s.engines.clear();
}

async function withLogs(s: () => Setup | undefined, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const setup = s();
    if (setup) {
      const live = [...setup.engines].map(([id, e]) => `[${id}, live]\n${e.output}`);
      process.stderr.write(`engine logs (tails):\n${[...setup.logs, ...live].map((l) => l.slice(-4_000)).join('\n---\n')}\n`);
    }
    throw err;
  }
}

async function produce(topic: string, schemaId: number, events: Array<{ partition: number; order: Order }>): Promise<void> {
  const producer = kafka('tracklane-test-slo-producer').producer();
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 2_000) {
      await producer.send({
        topic,
        messages: events.slice(i, i + 2_000).map((e) => ({ partition: e.partition, key: e.order.event_id, value: encodeV2(schemaId, e.order) })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Input records the group has committed (all partitions). */
async function committed(group: string, topic: string): Promise<number> {
  const admin = kafka('tracklane-test-slo-admin').admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return t.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

async function groupMembers(group: string): Promise<number> {
  const admin = kafka('tracklane-test-slo-admin').admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([group]);
    return groups[0]?.state === 'Stable' ? groups[0].members.length : 0;
  } finally {
    await admin.disconnect();
  }
}

/**
 * One event per partition, `at` event time (not counted by any SLI: type 'tick'), after all
 * others: every partition's highest event time passes `at`, so the watermark
 * (min over partitions - allowedLateness) closes every bucket before it.
 */
function ticks(at: number): Array<{ partition: number; order: Order }> {
  return Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, order: { event_id: `tick-${p}`, ts: at, type: 'tick', status: 'ok', region: 'none', duration_ms: 0 } }));
}

afterAll(async () => {
  for (const s of setups) await stopAll(s).catch(() => undefined);
  const redis = createRedis();
  await waitUntilReady(redis); // no offline queue: a command sent before the connection fails
  for (const s of setups) await deleteKeys(redis, keys(s.f.name).prefix).catch(() => undefined);
  redis.disconnect();
  await deleteTopics(setups.flatMap((s) => s.f.topics)).catch(() => undefined);
  const admin = kafka('tracklane-test-slo-admin').admin();
  await admin.connect();
  await admin.deleteGroups(setups.map((s) => s.f.name)).catch(() => undefined);
  await admin.disconnect();
  for (const s of setups) fs.rmSync(s.f.dir, { recursive: true, force: true });
}, 3 * MIN);

// ---------------------------------------------------------------------------------------
// 1. SLI windows equal the ground truth, with two instances and a kill -9.

describe('SLI windows through two engine instances, one killed with -9 mid-stream', () => {
  const N = 40_000;
  const STEP_MS = 2_000; // 30 events per minute of event time: 40,000 events = 22 h
  const QUANTILES = [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]] as const;
  // idleTimeout is wall clock. A kill -9 stalls the victim's partitions for the session
  // timeout (30s) while the survivor races through hours of backlogged event time in
  // seconds; with the default 30s idleTimeout those partitions would count as idle, the
  // watermark would jump ahead and their events would be late. A generous idleTimeout keeps
  // this backfill exact; in live traffic event time moves with the wall clock.
  const EXTRA = checkoutSlisYaml({ allowedLateness: '2m', idleTimeout: '10m' });

  interface Truth { good: number; total: number; values: number[] }
  let s: Setup | undefined;

  function build(t0: number): { events: Array<{ partition: number; order: Order }>; truth: Map<string, Truth>; end: number } {
    const random = prng(20_261_125);
    const events: Array<{ partition: number; order: Order }> = [];
    const truth = new Map<string, Truth>();
    let end = 0;
    for (let i = 0; i < N; i++) {
      // out of order by up to 45s within a partition: well inside allowedLateness (2m)
      const ts = t0 + i * STEP_MS - Math.floor(random() * 45_000);
      const region = ['eu', 'us', 'ap'][Math.floor(random() * 3)];
      const type = random() < 0.1 ? 'view' : 'checkout';
      const status = random() < 0.03 ? 'error' : 'ok';
      const duration = Math.max(1, Math.round(Math.exp(3 + 3 * random() * random() + random())));
      events.push({ partition: i % PARTITIONS, order: { event_id: `w-${i}`, ts, type, status, region, duration_ms: duration } });
      end = Math.max(end, ts);
      if (type !== 'checkout') continue;
      const bucket = Math.floor(ts / MIN) * MIN;
      for (const sli of ['checkout-success', 'checkout-latency']) {
        const key = `${sli}|region=${region}|${bucket}`;
        const w = truth.get(key) ?? { good: 0, total: 0, values: [] };
        w.total++;
        if (sli === 'checkout-success' ? status === 'ok' : duration <= 300) w.good++;
        if (sli === 'checkout-latency') w.values.push(duration);
        truth.set(key, w);
      }
    }
    return { events, truth, end: Math.floor(end / MIN) * MIN + MIN };
  }

  it('every (sli, labels, window_start) exactly once, equal to the truth computed from the produced events', async () => {
    s = await prepare(EXTRA);
    const setup = s;
    await withLogs(() => s, async () => {
      const t0 = Math.floor((Date.now() - 2 * DAY) / MIN) * MIN + 17_000;
      const { events, truth, end } = build(t0);
      // A quarter of the stream is a backlog when both instances start at once (each may
      // count its first partitions before the other has seen any); the rest arrives while
      // they run.
      const backlog = events.length / 4;
      await produce(setup.f.raw, setup.schemaId, events.slice(0, backlog));
      const started = Date.now();
      const a = startEngine(setup, 'win-a');
      const b = startEngine(setup, 'win-b');
      await Promise.all([waitRunning(a), waitRunning(b)]);
      await produce(setup.f.raw, setup.schemaId, [...events.slice(backlog), ...ticks(end + 3 * MIN)]);
      await until('a stable group of two', 2 * MIN, async () => (await groupMembers(setup.f.name)) === 2);
      const total = events.length + PARTITIONS;
      const killAt = await until('60% of the input committed', 5 * MIN, async () => {
        const n = await committed(setup.f.name, setup.f.raw);
        return n >= 0.6 * total ? n : undefined;
      }, 100);
      await kill9(setup, 'win-a');
      startEngine(setup, 'win-a2');
      await waitForInputCommitted(setup.f.name, setup.f.raw, 8 * MIN);
      const elapsed = Date.now() - started;

      const read = await readDecoded<SliWindow>(setup.f.metrics, { expected: truth.size, readCommitted: true, timeoutMs: 3 * MIN, idleMs: 3_000 });
      process.stdout.write(`windows: ${events.length} events, ${truth.size} windows, killed at ${killAt}/${total} committed, input done in ${elapsed} ms\n`);

      const seen = new Map<string, SliWindow>();
      const repeated: string[] = [];
      for (const { message, value } of read) {
        const key = `${value.sli}|${Object.entries(value.labels).map(([k, v]) => `${k}=${v}`).join('&')}|${value.window_start}`;
        expect(message.key!.toString()).toBe(key);
        if (seen.has(key)) repeated.push(key);
        seen.set(key, value);
      }
      expect(repeated).toEqual([]);
      expect([...seen.keys()].filter((k) => !truth.has(k))).toEqual([]);
      expect([...truth.keys()].filter((k) => !seen.has(k))).toEqual([]);

      const wrong: string[] = [];
      for (const [key, t] of truth) {
        const w = seen.get(key)!;
        const problems: string[] = [];
        if (w.good !== t.good || w.total !== t.total) problems.push(`good/total ${w.good}/${w.total}, expected ${t.good}/${t.total}`);
        if (w.late_events !== 0) problems.push(`late_events ${w.late_events}`);
        if (w.window_end - w.window_start !== MIN || w.topology !== setup.f.name) problems.push('bad window bounds or topology');
        if (w.sli === 'checkout-latency') {
          const sorted = [...t.values].sort((x, y) => x - y);
          if (!w.latency || w.latency.count !== sorted.length || w.latency.max !== sorted[sorted.length - 1]) {
            problems.push(`latency ${JSON.stringify(w.latency)}, expected count ${sorted.length} max ${sorted[sorted.length - 1]}`);
          } else {
            for (const [name, q] of QUANTILES) {
              // DDSketch's rank convention: the value at rank floor(q * (n - 1))
              const exact = sorted[Math.floor(q * (sorted.length - 1))];
              if (Math.abs(w.latency[name] - exact) > 0.01 * exact) problems.push(`${name} ${w.latency[name]}, exact ${exact}`);
            }
          }
        } else if (w.latency !== null || w.ratio !== t.good / t.total) {
          problems.push(`ratio ${w.ratio} / latency ${JSON.stringify(w.latency)}`);
        }
        if (problems.length) wrong.push(`${key}: ${problems.join('; ')}`);
      }
      expect(wrong.slice(0, 20)).toEqual([]);
    });
  }, 15 * MIN);
});

// ---------------------------------------------------------------------------------------
// 2. Burn-rate alerts on a 99.9% / 30d SLO with the google-sre tiers.
//
// Each scenario is one SLI (its events carry `type` = the scenario) with 20 events per
// minute of event time, 3 s apart, so each 1-minute bucket holds exactly 20. The expected
// transitions come from `referenceAlerts`: the burn-rate rule of docs/slo.md applied to the
// per-minute (bad, total) of the events this test produced.

const OBJECTIVE = 0.999;
const MIN_EVENTS = 1_000; // a long window needs 50 minutes of traffic before it may alert
const PER_MIN = 20;

/** The model of docs/slo.md for this SLO (test/helpers/sli-truth.ts). */
const referenceAlerts = (counts: { bad: number[]; total: number[] }, boundaries: number): Transition[] =>
  sliReferenceAlerts(counts, boundaries, { objective: OBJECTIVE, minEvents: MIN_EVENTS });

interface Scenario {
  /** SLI and `type` of its events; the SLO is `<name>-availability`. */
  name: string;
  minutes: number;
  /** Whether the j-th event (0..19) of minute m, the i-th of the scenario, is an error. */
  error(m: number, j: number, i: number): boolean;
}

const everyNth = (n: number) => (_m: number, _j: number, i: number) => (i + 1) % n === 0;

function scenarioYaml(scenarios: Scenario[]): string {
  return `  windows: { bucket: 1m, allowedLateness: 2m, idleTimeout: 10m }
  slis:
${scenarios.map((s) => `    - name: ${s.name}\n      ratio: { good: "status == 'ok'", total: "type == '${s.name}'" }`).join('\n')}
  slos:
${scenarios.map((s) => `    - name: ${s.name}-availability\n      sli: ${s.name}\n      objective: ${OBJECTIVE}\n      period: 30d\n      minEvents: ${MIN_EVENTS}\n      alerting: { tiers: google-sre }`).join('\n')}
`;
}

interface ScenarioEvents {
  /** Interleaved in event-time order across scenarios. */
  events: Array<{ partition: number; order: Order }>;
  /** Per scenario, per minute after T0: bad and total, counted from `events`. */
  perMinute: Map<string, { bad: number[]; total: number[] }>;
  end: number;
}

function scenarioEvents(t0: number, scenarios: Scenario[]): ScenarioEvents {
  const minutes = Math.max(...scenarios.map((s) => s.minutes));
  const events: ScenarioEvents['events'] = [];
  const index = new Map(scenarios.map((s) => [s.name, 0]));
  for (let m = 0; m < minutes; m++) {
    for (let j = 0; j < PER_MIN; j++) {
      for (const s of scenarios) {
        if (m >= s.minutes) continue;
        const i = index.get(s.name)!;
        index.set(s.name, i + 1);
        const order: Order = { event_id: `${s.name}-${i}`, ts: t0 + m * MIN + j * 3_000, type: s.name, status: s.error(m, j, i) ? 'error' : 'ok', region: 'eu', duration_ms: 1 };
        events.push({ partition: i % PARTITIONS, order });
      }
    }
  }
  const perMinute = new Map(scenarios.map((s) => [s.name, { bad: new Array<number>(minutes).fill(0), total: new Array<number>(minutes).fill(0) }]));
  for (const { order } of events) {
    const c = perMinute.get(order.type)!;
    const m = Math.floor((order.ts - t0) / MIN);
    c.total[m]++;
    if (order.status !== 'ok') c.bad[m]++;
  }
  return { events, perMinute, end: t0 + minutes * MIN };
}

describe('burn-rate alerts through the engine (99.9% / 30d, google-sre)', () => {
  const tierOrder = (name: string) => TIERS.findIndex((t) => t.name === name);
  const byTime = (a: Transition, b: Transition) => a[2] - b[2] || tierOrder(a[0]) - tierOrder(b[0]);

  /** The alerts topic of a setup, read as a read_committed consumer, as transitions per SLO. */
  async function observedAlerts(s: Setup, t0: number, expected: number): Promise<{ records: Alert[]; bySlo: Map<string, Transition[]> }> {
    const read = await readDecoded<Alert>(s.f.alerts, { expected, readCommitted: true, timeoutMs: 2 * MIN, idleMs: 3_000 });
    const records = read.map(({ message, value }) => {
      expect(message.key!.toString()).toBe(value.dedup_key);
      return value;
    });
    const bySlo = new Map<string, Transition[]>();
    for (const a of records) {
      const at = a.status === 'firing' ? a.starts_at : a.ends_at!;
      expect((at - t0) % MIN).toBe(0);
      bySlo.set(a.slo, [...(bySlo.get(a.slo) ?? []), [a.tier, a.status, (at - t0) / MIN]]);
    }
    for (const list of bySlo.values()) list.sort(byTime);
    return { records, bySlo };
  }

  /** Per dedup key: firing, resolved, firing, ... each transition once; resolved carries its firing's starts_at. */
  function expectOneRecordPerTransition(records: Alert[], topology: string): void {
    const byKey = new Map<string, Alert[]>();
    for (const a of records) byKey.set(a.dedup_key, [...(byKey.get(a.dedup_key) ?? []), a]);
    for (const [key, list] of byKey) {
      const first = list[0];
      expect(key).toBe(`${topology}/${first.slo}/${first.tier}`);
      list.forEach((a, i) => {
        expect({ key, i, status: a.status }).toEqual({ key, i, status: i % 2 === 0 ? 'firing' : 'resolved' });
        if (a.status === 'resolved') expect(a.starts_at).toBe(list[i - 1].starts_at);
      });
    }
  }

  it('(a) 0.05% never alerts; (b) a 10-minute 15% burst after 6h pages on 1h/5m during it and resolves ~5 min after it; kill -9 between the two', async () => {
    const BURST = 360; // minute the burst starts: after 6 hours of 0.05%
    const steady: Scenario = { name: 'steady', minutes: 12 * 60, error: everyNth(2_000) };
    const burst: Scenario = {
      name: 'burst',
      minutes: 12 * 60,
      error: (m, j, i) => (m >= BURST && m < BURST + 10 ? j < 3 : everyNth(2_000)(m, j, i)), // 3 of 20 = 15%
    };
    const s = await prepare(scenarioYaml([steady, burst]));
    await withLogs(() => s, async () => {
      const t0 = Math.floor((Date.now() - DAY) / MIN) * MIN;
      const { events, perMinute, end } = scenarioEvents(t0, [steady, burst]);
      const boundaries = (end - t0) / MIN;
      const expected = new Map([steady, burst].map((sc) => [`${sc.name}-availability`, referenceAlerts(perMinute.get(sc.name)!, boundaries)]));

      // What the arithmetic says, before asking the engine.
      expect(expected.get('steady-availability')).toEqual([]);
      const page = expected.get('burst-availability')!.filter(([tier]) => tier === '1h/5m');
      expect(page).toHaveLength(2);
      const [[, , firesAt], [, , resolvesAt]] = page;
      expect(firesAt).toBeGreaterThan(BURST);
      expect(firesAt).toBeLessThan(BURST + 10);
      expect(resolvesAt - (BURST + 10)).toBeGreaterThanOrEqual(4);
      expect(resolvesAt - (BURST + 10)).toBeLessThanOrEqual(6);
      expect(expected.get('burst-availability')!.filter(([tier]) => tier === '6h/30m')).toEqual([]);

      // Phase 1 ends 3 minutes after the firing boundary: enough to close it (watermark =
      // slowest partition - 2m), not the resolving one. Then kill -9, the rest, a new process.
      const pageKey = `${s.f.name}/burst-availability/1h/5m`;
      const watch = await CommittedWatch.start(s.f.alerts);
      try {
        const cut = t0 + (firesAt + 3) * MIN;
        const phase1 = events.filter((e) => e.order.ts < cut);
        await produce(s.f.raw, s.schemaId, phase1);
        const engine = startEngine(s, 'alerts-1');
        await waitRunning(engine);
        await until('the 1h/5m page on the alerts topic', 5 * MIN, () => (watch.seen.get(pageKey) ?? 0) >= 1);
        await kill9(s, 'alerts-1');
        await produce(s.f.raw, s.schemaId, [...events.filter((e) => e.order.ts >= cut), ...ticks(end + 150_000)]);
        startEngine(s, 'alerts-2');
        await waitForInputCommitted(s.f.name, s.f.raw, 8 * MIN);
      } finally {
        await watch.stop();
      }

      const want = [...expected.values()].reduce((n, l) => n + l.length, 0);
      const { records, bySlo } = await observedAlerts(s, t0, want);
      process.stdout.write(`burst: expected ${JSON.stringify([...expected])}\n        observed ${JSON.stringify([...bySlo])}\n`);
      expect(bySlo.get('steady-availability') ?? []).toEqual([]);
      expect(bySlo.get('burst-availability')).toEqual(expected.get('burst-availability'));
      expect(records).toHaveLength(want);
      expectOneRecordPerTransition(records, s.f.name);
      const [firing, resolved] = records.filter((a) => a.tier === '1h/5m');
      expect(firing).toMatchObject({ status: 'firing', severity: 'page', slo: 'burst-availability', sli: 'burst', objective: OBJECTIVE, period: 30 * DAY, ends_at: null });
      expect(firing.burn_rate_long!).toBeGreaterThan(14.4);
      expect(firing.burn_rate_short!).toBeGreaterThan(14.4);
      expect(resolved).toMatchObject({ status: 'resolved', dedup_key: pageKey, starts_at: t0 + firesAt * MIN, ends_at: t0 + resolvesAt * MIN });
      expect(records.filter((a) => a.tier === 'no-data')).toEqual([]);
    });
  }, 15 * MIN);

  it('(c) 0.5% for 3 days opens tickets and never pages; a clean recovery resolves them; graceful restart mid-stream', async () => {
    const DAYS3 = 3 * 24 * 60;
    const slow: Scenario = { name: 'slow', minutes: DAYS3 + 6 * 60, error: (m, j, i) => m < DAYS3 && everyNth(200)(m, j, i) };
    const s = await prepare(scenarioYaml([slow]));
    await withLogs(() => s, async () => {
      const t0 = Math.floor((Date.now() - 4 * DAY) / MIN) * MIN;
      const { events, perMinute, end } = scenarioEvents(t0, [slow]);
      const expected = referenceAlerts(perMinute.get('slow')!, (end - t0) / MIN);
      expect(expected.filter(([tier]) => tier === '1h/5m' || tier === '6h/30m')).toEqual([]);
      expect(expected.filter(([, status]) => status === 'firing').length).toBeGreaterThan(0);

      await produce(s.f.raw, s.schemaId, [...events, ...ticks(end + 150_000)]);
      startEngine(s, 'slow-1');
      const total = events.length + PARTITIONS;
      await until('half the input committed', 5 * MIN, async () => (await committed(s.f.name, s.f.raw)) >= total / 2, 100);
      await stopAll(s);
      startEngine(s, 'slow-2');
      await waitForInputCommitted(s.f.name, s.f.raw, 8 * MIN);

      const { records, bySlo } = await observedAlerts(s, t0, expected.length);
      process.stdout.write(`slow: expected ${JSON.stringify(expected)}\n      observed ${JSON.stringify(bySlo.get('slow-availability') ?? [])}\n`);
      expect(bySlo.get('slow-availability')).toEqual(expected);
      expect(records).toHaveLength(expected.length);
      expect(records.filter((a) => a.severity === 'page')).toEqual([]);
      expectOneRecordPerTransition(records, s.f.name);
    });
  }, 15 * MIN);
});

// ---------------------------------------------------------------------------------------
// 3. A partition far behind holds the watermark back; when it catches up, more windows
//    become closable at once than one close claims (5,000). The rest are claimed by later
//    batches, and the SLOs must not be evaluated over buckets whose windows are not claimed
//    yet (their history is not written: they would look empty, e.g. fire no-data).

describe('a lagging partition releases more windows than one close claims', () => {
  const REGIONS = 50; // label sets: 300 minutes of them are 15,000 windows
  const MINUTES = 360;
  const EXTRA = `  windows: { bucket: 1m, allowedLateness: 2m, idleTimeout: 10m }
  slis:
    - name: orders
      ratio: { good: "status == 'ok'", total: "type == 'order'" }
      groupBy: [region]
  slos:
    - name: orders-availability
      sli: orders
      objective: ${OBJECTIVE}
      alerting: { tiers: google-sre }
`;

  it('every window exactly once and equal to the truth, and no alert', async () => {
    const s = await prepare(EXTRA);
    await withLogs(() => s, async () => {
      const t0 = Math.floor((Date.now() - DAY) / MIN) * MIN;
      const truth = new Map<string, number>();
      const order = (id: string, m: number, offsetMs: number, region: number): Order => {
        const key = `orders|region=r${region}|${t0 + m * MIN}`;
        truth.set(key, (truth.get(key) ?? 0) + 1);
        return { event_id: id, ts: t0 + m * MIN + offsetMs, type: 'order', status: 'ok', region: `r${region}`, duration_ms: 1 };
      };
      // Every partition has an event time first, then a backlog: partitions 0-2 six hours
      // of all regions, partition 3 only its first hour.
      const warmUp = Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, order: order(`warm-${p}`, 0, 0, 0) }));
      const backlog: Array<{ partition: number; order: Order }> = [];
      for (let m = 0; m < MINUTES; m++) {
        for (let r = 0; r < REGIONS; r++) backlog.push({ partition: r % 3, order: order(`o-${m}-${r}`, m, r * 500, r) });
        if (m < 60) backlog.push({ partition: 3, order: order(`late-${m}`, m, 30_000, 0) });
      }
      const catchUp = Array.from({ length: MINUTES - 60 }, (_, i) => ({ partition: 3, order: order(`late-${60 + i}`, 60 + i, 30_000, 0) }));

      const watch = await CommittedWatch.start(s.f.metrics);
      try {
        startEngine(s, 'lag-1');
        await produce(s.f.raw, s.schemaId, warmUp);
        await waitForInputCommitted(s.f.name, s.f.raw, 3 * MIN);
        await produce(s.f.raw, s.schemaId, backlog);
        await waitForInputCommitted(s.f.name, s.f.raw, 5 * MIN);
        const early = watch.count;
        // partition 3 catches up in one batch: ~15,000 windows become closable at once
        await produce(s.f.raw, s.schemaId, catchUp);
        // Closing runs per batch: send ticks until every window came out.
        let round = 0;
        await until('every window on the metrics topic', 5 * MIN, async () => {
          if (watch.count >= truth.size) return true;
          await produce(s.f.raw, s.schemaId, ticks(t0 + MINUTES * MIN + 150_000 + round++).map((t) => ({ ...t, order: { ...t.order, event_id: `${t.order.event_id}-${round}` } })));
          return false;
        }, 1_000);
        await waitForInputCommitted(s.f.name, s.f.raw, 3 * MIN);
        process.stdout.write(`lagging partition: ${truth.size} windows, ${early} before the catch-up, ${round} tick rounds after it\n`);
      } finally {
        await watch.stop();
      }

      const read = await readDecoded<SliWindow>(s.f.metrics, { expected: truth.size, readCommitted: true, timeoutMs: 3 * MIN, idleMs: 3_000 });
      const seen = new Map<string, SliWindow>();
      for (const { value } of read) {
        const key = `${value.sli}|region=${value.labels.region}|${value.window_start}`;
        expect(seen.has(key)).toBe(false);
        seen.set(key, value);
      }
      expect(seen.size).toBe(truth.size);
      const wrong = [...truth].filter(([key, n]) => seen.get(key)?.total !== n || seen.get(key)?.good !== n || seen.get(key)?.late_events !== 0);
      expect(wrong.slice(0, 10)).toEqual([]);
      const alerts = await readDecoded<Alert>(s.f.alerts, { readCommitted: true, timeoutMs: 20_000, idleMs: 3_000 });
      expect(alerts.map(({ value: a }) => `${a.tier} ${a.status} at minute ${((a.ends_at ?? a.starts_at) - t0) / MIN}`)).toEqual([]);
    });
  }, 15 * MIN);
});

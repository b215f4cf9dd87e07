import crypto from 'node:crypto';
import { Engine } from '../../src/engine';
import { initTopology } from '../../src/engine/provision';
import type { Alert, SliWindow } from '../../src/slo/records';
import { loadTopology } from '../../src/topology/load';
import { encodeV2, registerVersions, writeFixture, type Fixture, type Order } from '../helpers/engine-fixture';
import { readDecoded } from '../helpers/outputs';
import { referenceAlerts, type RefTier, type Transition } from '../helpers/sli-truth';
import { consumeAll, deleteTopics, kafka, type ConsumedMessage } from '../helpers/stack-env';

/** key + value + header names and values: what tracklane_output_bytes_total counts. */
function recordBytes(m: ConsumedMessage): number {
  let n = (m.value?.length ?? 0) + (m.key?.length ?? 0);
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    for (const part of Array.isArray(v) ? v : [v]) n += Buffer.byteLength(k) + (part === undefined ? 0 : Buffer.byteLength(part));
  }
  return n;
}

// Issue 14's "must show" for the pipeline SLIs, through the real engine, Kafka, the registry
// and Redis: a stream in which a third of the events lose their traceparent half-way. The
// expected windows and the coverage SLO's page are computed here from the events the test
// produced (test/helpers/sli-truth.ts), never from the engine's output.

const MIN = 60_000;
const MINUTES = 60;
const PER_MINUTE = 30;
const OBJECTIVE = 0.95;
const TIER: RefTier = { name: 'fast', severity: 'page', long: 10, short: 2, threshold: 3.5 };

const traceparent = () => `00-${crypto.randomBytes(16).toString('hex')}-${crypto.randomBytes(8).toString('hex')}-01`;

interface Sent { value: Buffer; timestamp: number; headers: Record<string, string>; minute: number; truth: { coverage?: boolean; trace?: boolean; ingest: boolean } }

describe('built-in pipeline SLIs through the engine', () => {
  let f: Fixture;
  let engine: Engine | undefined;
  const sent: Sent[] = [];
  // Bucket-aligned, a few hours ago: event times far behind the wall clock (no idle close while it runs).
  const t0 = Math.floor((Date.now() - 3 * 60 * MIN) / MIN) * MIN;

  beforeAll(async () => {
    f = writeFixture({
      partitions: 1,
      enrich: ['- correlation: { field: correlation_id, header: traceparent, generate: true }'],
      extra: `  windows: { bucket: 1m, allowedLateness: 0s, idleTimeout: 1h }
  slis:
    - { name: coverage, builtin: correlation-coverage }
    - { name: trace, builtin: trace-completeness }
    - { name: ingest, builtin: ingestion-errors }
  slos:
    - name: coverage-slo
      sli: coverage
      objective: ${OBJECTIVE}
      period: 1d
      alerting: { tiers: [ { name: ${TIER.name}, severity: page, long: ${TIER.long}m, short: ${TIER.short}m, threshold: ${TIER.threshold} } ] }
`,
    });
    const { v2 } = await registerVersions(f.subject);
    await initTopology(loadTopology(f.file));
    let n = 0;
    for (let minute = 0; minute <= MINUTES; minute++) {
      // Minute MINUTES holds one event: it moves the watermark past the last measured bucket.
      const count = minute === MINUTES ? 1 : PER_MINUTE;
      for (let j = 0; j < count; j++, n++) {
        const ts = t0 + minute * MIN + j * 1_000;
        const lost = minute >= MINUTES / 2 && j % 3 === 0; // a third lose their traceparent half-way
        const fieldOnly = minute < MINUTES / 2 && j % 5 === 0; // correlated by field, no header
        const order: Order = { event_id: `ev-${n}`, ts, type: 'checkout', status: 'ok', region: 'eu', duration_ms: 10, correlation_id: fieldOnly ? `order-${n}` : null };
        const headers: Record<string, string> = lost || fieldOnly ? {} : { traceparent: traceparent() };
        sent.push({ value: encodeV2(v2, order), timestamp: ts, headers, minute, truth: { coverage: !lost, trace: !lost && !fieldOnly, ingest: true } });
      }
      if (minute < MINUTES) {
        // One undecodable record a minute: a dead letter without event time, counted at its broker timestamp.
        const ts = t0 + minute * MIN + 45_500;
        sent.push({ value: encodeV2(v2, { event_id: `bad-${minute}`, ts, type: 'checkout', status: 'ok' }).subarray(0, 9), timestamp: ts, headers: {}, minute, truth: { ingest: false } });
      }
    }
    // Producer timestamps in event-time order (partition order = time order).
    sent.sort((a, b) => a.timestamp - b.timestamp);
    const producer = kafka().producer();
    await producer.connect();
    for (let i = 0; i < sent.length; i += 500) {
      await producer.send({
        topic: f.raw,
        messages: sent.slice(i, i + 500).map((s) => ({ partition: 0, value: s.value, timestamp: String(s.timestamp), headers: s.headers })),
      });
    }
    await producer.disconnect();
    engine = new Engine({ topology: loadTopology(f.file), metricsPort: 0, instanceId: 'builtin-slis-test' });
    await engine.start();
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
    if (f) await deleteTopics(f.topics);
  });

  /** Expected [good, total] per SLI and minute, from how each event was built. */
  function truth(sli: 'coverage' | 'trace' | 'ingest'): Array<[number, number]> {
    const out: Array<[number, number]> = Array.from({ length: MINUTES }, () => [0, 0]);
    for (const s of sent) {
      const v = s.truth[sli];
      if (v === undefined || s.minute >= MINUTES) continue;
      out[s.minute][1]++;
      if (v) out[s.minute][0]++;
    }
    return out;
  }

  it('publishes each built-in SLI window with the counts of the ground truth', async () => {
    const windows = await readDecoded<SliWindow>(f.metrics, { expected: 3 * MINUTES });
    for (const sli of ['coverage', 'trace', 'ingest'] as const) {
      const got: Array<[number, number]> = Array.from({ length: MINUTES }, () => [0, 0]);
      for (const { value: w } of windows) {
        if (w.sli !== sli) continue;
        const minute = (Number(w.window_start) - t0) / MIN;
        got[minute] = [Number(w.good), Number(w.total)];
      }
      expect({ sli, got }).toEqual({ sli, got: truth(sli) });
    }
    // the stream really changed half-way: coverage drops to two thirds, trace completeness was already lower
    expect(truth('coverage')[MINUTES - 1]).toEqual([20, 30]);
    expect(truth('trace')[0]).toEqual([24, 30]);
    expect(truth('ingest')[0]).toEqual([30, 31]);
  }, 180_000);

  it("fires the coverage SLO's page exactly when the reference model says", async () => {
    const counts = truth('coverage');
    const expected = referenceAlerts({ bad: counts.map(([g, t]) => t - g), total: counts.map(([, t]) => t) }, MINUTES, { objective: OBJECTIVE, minEvents: 10, tiers: [TIER] });
    expect(expected.some(([, status]) => status === 'firing')).toBe(true);
    const alerts = await readDecoded<Alert>(f.alerts, { expected: expected.length });
    const observed: Transition[] = alerts.map(({ value: a }) => [a.tier, a.status, ((a.status === 'firing' ? Number(a.starts_at) : Number(a.ends_at)) - t0) / MIN]);
    expect(observed).toEqual(expected);
    expect(alerts[0].value).toMatchObject({ slo: 'coverage-slo', sli: 'coverage', severity: 'page', status: 'firing' });
  }, 180_000);

  it('tracklane_output_bytes_total equals the bytes on each output topic', async () => {
    const live = sent.filter((s) => s.truth.coverage !== undefined).length;
    const expected: Record<string, number> = {};
    const topics = { enriched: [f.enriched, live], deadLetter: [f.dlq, MINUTES], metrics: [f.metrics, 3 * MINUTES] } as const;
    for (const [output, [topic, count]] of Object.entries(topics)) {
      const records = await consumeAll(topic, { expected: count, timeoutMs: 120_000 });
      expect({ output, records: records.length }).toEqual({ output, records: count });
      expected[output] = records.reduce((n, m) => n + recordBytes(m), 0);
    }
    const alerts = await consumeAll(f.alerts, { timeoutMs: 120_000 });
    expected.alerts = alerts.reduce((n, m) => n + recordBytes(m), 0);
    expect(alerts.length).toBeGreaterThan(0);
    // The counter moves right after Kafka's ack, so it may trail what a reader already sees: wait for it.
    let got: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      got = Object.fromEntries((await engine!.metrics.outputBytes.get()).values.map((v) => [String(v.labels.output), v.value]));
      if (JSON.stringify(got) === JSON.stringify({ ...got, ...expected })) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(got).toEqual(expected);
  }, 180_000);
});

import { createSampleStep, keyPosition, sampleKey } from '../../src/enrich/sample';
import { AdaptiveRates, clampRate } from '../../src/enrich/sample-rates';
import { isLive, type PipelineEvent, type StageContext } from '../../src/pipeline/event';
import { SliClassifier } from '../../src/window/classify';
import { loadTopologyText } from '../../src/topology/load';
import type { SampleStep } from '../../src/topology/types';
import type { UserError } from '../../src/errors';
import avro from 'avsc';
import { deriveEnrichedSchema } from '../../src/enrich/derive-schema';
import { avroVariables } from '../../src/expr/schema-types';
import { assertExpressionsTypeCheck, expressionRefs, expressionRefsOfDocument } from '../../src/topology/expressions';
import { ORDER_V2 } from '../helpers/engine-fixture';

const ctx = {} as StageContext;
const KEEP = "status != 'ok' || duration_ms > 1000";

function event(record: Record<string, unknown>, meta: Partial<PipelineEvent['meta']> = {}, offset = 0): PipelineEvent {
  return {
    source: {} as PipelineEvent['source'], topic: 'raw.t', partition: 0, offset: String(offset), timestamp: 1, key: null, value: null,
    headers: {}, record, idempotencyKey: String(record.event_id), eventTime: Number(record.ts ?? 0),
    meta: { steps: [], pseudonymized: [], ...meta },
  };
}

/** A deterministic pseudo-random sequence (mulberry32), so the statistics below never flake. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('sample: keep rule, rate and whole traces', () => {
  it('over 100,000 events with 1% errors at rate 0.1 keeps every error, about 10% of the rest, and whole traces', async () => {
    const step: SampleStep = { kind: 'sample', keep: KEEP, rate: 0.1, by: ['correlation_id'] };
    const stage = createSampleStep(step, 'enrich[1].sample', { windowMs: 60_000 });
    const random = prng(42);
    const events: PipelineEvent[] = [];
    let trace = 0;
    while (events.length < 100_000) {
      const size = 1 + Math.floor(random() * 8); // 1..8 events per trace
      const correlationId = `trace-${trace++}`;
      for (let j = 0; j < size && events.length < 100_000; j++) {
        const n = events.length;
        const error = random() < 0.01;
        events.push(event({ event_id: `e-${n}`, status: error ? 'error' : 'ok', duration_ms: Math.floor(random() * 900) }, { correlation_id: correlationId }, n));
      }
    }
    for (let i = 0; i < events.length; i += 500) await stage.process(events.slice(i, i + 500), ctx);

    const errors = events.filter((e) => e.record!.status !== 'ok');
    const rest = events.filter((e) => e.record!.status === 'ok');
    expect(errors.length).toBeGreaterThan(800); // ~1%
    expect(errors.every((e) => isLive(e) && e.meta.sample_weight === 1 && e.sample?.decision === 'kept_rule')).toBe(true);
    const keptShare = rest.filter(isLive).length / rest.length;
    console.log(`sample: ${errors.length} errors all kept; kept share of the other ${rest.length}: ${keptShare.toFixed(4)}`);
    expect(keptShare).toBeGreaterThanOrEqual(0.09);
    expect(keptShare).toBeLessThanOrEqual(0.11);
    for (const e of rest) {
      if (isLive(e)) expect([e.meta.sample_weight, e.sample?.decision]).toEqual([10, 'kept_rate']);
      else expect([e.dropped, e.sample?.decision, e.meta.steps]).toEqual(['sampled', 'dropped', []]);
    }
    // Whole traces: every non-error event of a trace has the same fate.
    const fate = new Map<string, boolean>();
    let mixed = 0;
    for (const e of rest) {
      const id = e.meta.correlation_id!;
      const kept = isLive(e);
      if (fate.has(id) && fate.get(id) !== kept) mixed++;
      fate.set(id, kept);
    }
    expect(mixed).toBe(0);
    expect(fate.size).toBeGreaterThan(10_000);
  });

  it('decides the same way every time (reprocessing, another instance)', async () => {
    const step: SampleStep = { kind: 'sample', rate: 0.3, by: [] };
    const run = async () => {
      const batch = Array.from({ length: 2_000 }, (_, i) => event({ event_id: `id-${i}` }, {}, i));
      await createSampleStep(step, 'r', { windowMs: 60_000 }).process(batch, ctx);
      return batch.map(isLive);
    };
    const first = await run();
    expect(await run()).toEqual(first);
    // Without `by`, the idempotency key decides.
    expect(first.filter(Boolean).length).toBe(Array.from({ length: 2_000 }, (_, i) => keyPosition(`id-${i}`) < 0.3).filter(Boolean).length);
  });

  it('keys by meta first, then the record; falls back to the idempotency key', () => {
    const ev = event({ event_id: 'x', correlation_id: 'from-record', service: 'cart' }, { correlation_id: 'from-meta' });
    expect(sampleKey(ev, ['correlation_id'])).toBe('from-meta');
    expect(sampleKey(ev, ['service', 'correlation_id'])).toBe('cart\u001ffrom-meta');
    expect(sampleKey(event({ event_id: 'y', correlation_id: null }), ['correlation_id'])).toBe('y');
    expect(sampleKey(ev, [])).toBe('x');
    const p = keyPosition('anything');
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(1);
  });

  it('keeps an event whose keep rule fails, and reports the failure', async () => {
    const reported: string[] = [];
    const expressionErrors = { report: (name: string) => reported.push(name) } as never;
    const stage = createSampleStep({ kind: 'sample', keep: 'duration_ms > 1000', rate: 0.000001, by: [] }, 'r', { windowMs: 1, expressionErrors });
    const ev = event({ event_id: 'no-duration' }); // the field is missing: CEL throws
    await stage.process([ev], ctx);
    expect([isLive(ev), ev.meta.sample_weight, reported]).toEqual([true, 1, ['sample.keep']]);
  });

  it('leaves dead letters and duplicates alone', async () => {
    const dup = event({ event_id: 'd' });
    dup.dropped = 'duplicate';
    await createSampleStep({ kind: 'sample', rate: 0.000001, by: [] }, 'r', { windowMs: 1 }).process([dup], ctx);
    expect([dup.dropped, dup.sample]).toEqual(['duplicate', undefined]);
  });
});

describe('SLIs count sampled-out events, not duplicates or dead letters', () => {
  it('classifies a sampled-out event exactly like a kept one', () => {
    const classifier = new SliClassifier([{ name: 'ok', kind: 'ratio', good: "status == 'ok'", total: 'true', groupBy: [], maxSeries: 10 }]);
    const kept = event({ event_id: 'a', status: 'ok', ts: 5 });
    const sampled = event({ event_id: 'b', status: 'ok', ts: 5 });
    sampled.dropped = 'sampled';
    const duplicate = event({ event_id: 'c', status: 'ok', ts: 5 });
    duplicate.dropped = 'duplicate';
    const consent = event({ event_id: 'd', status: 'ok', ts: 5 });
    consent.dropped = 'consent';
    const dead = event({ event_id: 'e', status: 'ok', ts: 5 });
    dead.failure = { reason: 'VALIDATION_FAILED', message: 'x', stage: 'validate' };
    expect(classifier.classify([kept, sampled, duplicate, consent, dead]).map((o) => o.offset)).toEqual([kept.offset, sampled.offset]);
  });
});

describe('adaptive rates', () => {
  it('converge to the target per group and never go below minRate (fake clock)', async () => {
    let now = 1_000_000;
    const rates: Array<[string, number | undefined]> = [];
    const step: SampleStep = { kind: 'sample', rate: 1, by: [], adaptive: { targetPerSecond: 20, by: ['service'], minRate: 0.05, maxGroups: 10 } };
    const stage = createSampleStep(step, 'r', { windowMs: 5_000, now: () => now, onRate: (g, r) => rates.push([g, r]) });
    // Per second: cart 400 events, search 80, admin 5 (under target), flood 2,000.
    const perSecond = { cart: 400, search: 80, admin: 5, flood: 2_000 };
    const keptPerSecond: Record<string, number[]> = { cart: [], search: [], admin: [], flood: [] };
    let id = 0;
    for (let second = 0; second < 40; second++) {
      const batch: PipelineEvent[] = [];
      for (const [service, n] of Object.entries(perSecond)) for (let i = 0; i < n; i++) batch.push(event({ event_id: `e${id++}`, service, status: 'ok' }));
      await stage.process(batch, ctx);
      for (const service of Object.keys(perSecond)) keptPerSecond[service].push(batch.filter((e) => isLive(e) && e.record!.service === service).length);
      now += 1_000;
    }
    const last = (service: string) => rates.filter(([g]) => g === `service=${service}`).pop()?.[1];
    expect(last('cart')).toBeCloseTo(0.05, 10);
    expect(last('search')).toBeCloseTo(0.25, 10);
    expect(last('admin')).toBe(1);
    expect(last('flood')).toBe(0.05); // 20 / 2,000 is below minRate
    expect(rates.every(([, r]) => r === undefined || r >= 0.05)).toBe(true);
    // After the first window, kept per second is near the target (the hash is an even split).
    const mean = (xs: number[]) => xs.slice(10).reduce((a, b) => a + b, 0) / xs.slice(10).length;
    expect(keptPerSecond.cart.slice(0, 5)).toEqual([400, 400, 400, 400, 400]); // first window: the starting rate 1
    expect(Math.abs(mean(keptPerSecond.cart) - 20)).toBeLessThan(3);
    expect(Math.abs(mean(keptPerSecond.search) - 20)).toBeLessThan(3);
    expect(mean(keptPerSecond.admin)).toBe(5);
    expect(mean(keptPerSecond.flood)).toBeGreaterThan(80); // the floor (0.05 x 2,000 = 100) wins over the target
  });

  it('moves a rate every window as traffic changes and forgets silent groups', () => {
    let changes: Array<[string, number | undefined]> = [];
    const rates = new AdaptiveRates({ targetPerSecond: 100, minRate: 0.01, maxGroups: 2, windowMs: 1_000, initialRate: 0.5 }, (g, r) => changes.push([g, r]));
    rates.tick(0);
    expect(rates.rateOf(rates.group('a'), 0)).toBe(0.5);
    for (let i = 0; i < 1_000; i++) rates.observe(rates.group('a'));
    expect(rates.group('b')).toBe('b');
    expect(rates.group('c')).toBe('__other__'); // maxGroups
    rates.observe('b');
    rates.tick(1_000);
    expect(rates.snapshot()).toEqual(new Map([['a', 0.1], ['b', 1]]));
    changes = [];
    for (let i = 0; i < 100_000; i++) rates.observe('a');
    rates.tick(2_000);
    expect(changes).toEqual([['b', undefined], ['a', 0.01]]); // b was silent; a hit minRate
    expect(clampRate(100, 0, 0.01)).toBe(1);
  });
});

describe('sample options', () => {
  const doc = (enrich: string) => `apiVersion: tracklane/v1
kind: Topology
metadata: { name: s, version: 1 }
spec:
  sources: [ { name: web, topic: raw.s, eventTime: { field: ts }, idempotencyKey: event_id } ]
  enrich:
${enrich}
  outputs: { enriched: { topic: e.s }, deadLetter: { topic: d.s } }
`;
  it('loads the DESIGN.md example', () => {
    const t = loadTopologyText(doc(`    - correlation: {}
    - sample: { keep: "status != 'ok' || duration_ms > 1000", rate: 0.1, by: [correlation_id], adaptive: { targetPerSecond: 500, by: [service], minRate: 0.01 } }`), 't.yaml');
    expect(t.enrich[1]).toEqual({
      kind: 'sample', keep: "status != 'ok' || duration_ms > 1000", rate: 0.1, by: ['correlation_id'],
      adaptive: { targetPerSecond: 500, by: ['service'], minRate: 0.01, maxGroups: 100 },
    });
  });
  const problems = (enrich: string): string => {
    try {
      loadTopologyText(doc(enrich), 't.yaml');
    } catch (err) {
      return (err as UserError).details.join('\n');
    }
    return 'loaded';
  };
  it('refuses a bad rate, a missing rate, a bad keep and a step after sample', () => {
    expect(problems('    - sample: { rate: 0 }')).toMatch(/above 0/);
    expect(problems('    - sample: { by: [x] }')).toMatch(/needs a rate/);
    expect(problems('    - sample: { rate: 0.1, keep: "status ==" }')).toMatch(/CEL/);
    expect(problems('    - sample: { rate: 0.1 }\n    - correlation: {}')).toMatch(/last enrich step/);
  });
});

describe('sample keep rule type check and the enriched schema', () => {
  const topologyWithKeep = (keep: string) => loadTopologyText(`apiVersion: tracklane/v1
kind: Topology
metadata: { name: s, version: 1 }
spec:
  sources: [ { name: web, topic: raw.s, eventTime: { field: ts }, idempotencyKey: event_id } ]
  enrich:
    - sample: { keep: "${keep}", rate: 0.1 }
  outputs: { enriched: { topic: e.s }, deadLetter: { topic: d.s } }
`, 't.yaml');

  it('type-checks keep against the reader schema like an SLI expression', () => {
    const vars = avroVariables(ORDER_V2, 'source "web"');
    const ok = topologyWithKeep("status != 'ok' || duration_ms > 1000");
    expect(expressionRefs(ok).map((r) => [r.name, r.path.join('.')])).toEqual([['sample.keep', 'spec.enrich.0.sample.keep']]);
    expect(() => assertExpressionsTypeCheck(ok, [vars])).not.toThrow();
    const typo = topologyWithKeep("stauts != 'ok'");
    let details: string[] = [];
    try {
      assertExpressionsTypeCheck(typo, [vars]);
    } catch (err) {
      details = (err as UserError).details;
    }
    expect(details.join('\n')).toMatch(/spec\.enrich\[0\]\.sample\.keep: CEL: field "stauts" is not in the schema/);
    expect(expressionRefsOfDocument({ spec: { enrich: [{ sample: { keep: 'x > 1' } }] } }).map((r) => r.name)).toEqual(['sample.keep']);
  });

  it('adds tracklane.sample_weight as an optional double: old enriched records still read (BACKWARD)', () => {
    const current = avro.Type.forSchema(deriveEnrichedSchema(ORDER_V2, [], []) as avro.Schema);
    const tracklane = (current as avro.types.RecordType).fields.find((f) => f.name === 'tracklane')!.type as avro.types.RecordType;
    const field = tracklane.fields.find((f) => f.name === 'sample_weight')!;
    expect([field.type.typeName, field.defaultValue()]).toEqual(['union:unwrapped', null]);
    // The same schema without the field: what an earlier Tracklane registered.
    const before = JSON.parse(JSON.stringify(deriveEnrichedSchema(ORDER_V2, [], [])));
    const meta = before.fields.find((f: { name: string }) => f.name === 'tracklane').type;
    meta.fields = meta.fields.filter((f: { name: string }) => f.name !== 'sample_weight');
    const old = avro.Type.forSchema(before);
    const record = {
      event_id: 'e', ts: 1, type: 'checkout', status: 'ok', region: 'eu', duration_ms: 1, email: null, ip: null, anonymous_id: null, user_id: null, correlation_id: null, note: null, consent_analytics: true,
      tracklane: { correlation_id: null, correlation_generated: false, user_id: null, anonymous_id: null, session_id: null, event_time: 1, ingested_at: 1, processed_at: 1, clock_skew_ms: 0,
        source: { topic: 't', partition: 0, offset: 0, schema_id: 1, subject: 's', schema_version: 1 }, pipeline: { name: 'p', version: 1, instance: 'i' }, steps: [], pseudonymized: [], pseudonym_key_id: null, consent: null },
    };
    const read = current.fromBuffer(old.toBuffer(record), current.createResolver(old)) as { tracklane: { sample_weight: number | null } };
    expect(read.tracklane.sample_weight).toBeNull();
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { parse, parseDocument } from 'yaml';
import { importOpenSlo } from '../../src/slo/openslo/import';
import { registerCheck } from '../../src/cli/check';
import { sloInfo } from '../../src/observability/status/document';
import { prometheusRules } from '../../src/slo/rules';
import { loadTopology } from '../../src/topology/load';
import { UserError } from '../../src/errors';
import type { PipelineEvent } from '../../src/pipeline/event';
import { loadTopologyText } from '../../src/topology/load';
import { expressionRefs } from '../../src/topology/expressions';
import { exportOpenSlo } from '../../src/slo/openslo/export';
import { sliMeasure } from '../../src/topology/builtin-slis';
import type { BuiltinSli, CorrelationStep, SliSpec, SourceSpec } from '../../src/topology/types';
import type { DeadLetterReason as Reason } from '../../src/errors';
import { SliClassifier } from '../../src/window/classify';
import { createRng } from '../helpers/fuzz';

// Each built-in pipeline SLI (docs/tracking-slis.md) against a ground truth computed here from
// how the test built the events, over a seeded random mix.

const source = { name: 'web', topic: 'raw' } as SourceSpec;
const VALID_TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const BAD_TP = '00-00000000000000000000000000000000-00f067aa0ba902b7-01';

function builtin(name: string, b: BuiltinSli['builtin']): SliSpec {
  return { name, kind: 'builtin', builtin: b, groupBy: [], maxSeries: 10 };
}

interface Crafted {
  ev: PipelineEvent;
  truth: { tp: boolean; corrArrived: boolean; latency: number; dead?: Reason; ctx: { user: boolean; anon: boolean; session: boolean }; live: boolean };
}

/** Events as they leave the pipeline (after correlation, identity, lineage), with what the test knows about them. */
function crafted(n: number, seed: number): Crafted[] {
  const rng = createRng(seed);
  const rnd = () => rng.next();
  const out: Crafted[] = [];
  for (let i = 0; i < n; i++) {
    const headerKind = rnd() < 0.5 ? 'valid' : rnd() < 0.5 ? 'invalid' : 'none';
    const field = rnd() < 0.3 ? `order-${i}` : undefined;
    const deadRoll = rnd();
    const dead: Reason | undefined = deadRoll < 0.05 ? 'DECODE_FAILED' : deadRoll < 0.1 ? 'VALIDATION_FAILED' : undefined;
    const dropped = !dead && rnd() < 0.05 ? ('duplicate' as const) : undefined;
    const ctx = { user: rnd() < 0.6, anon: rnd() < 0.6, session: rnd() < 0.8 };
    const eventTime = dead === 'DECODE_FAILED' ? undefined : 60_000 + i * 10;
    const latency = Math.floor(rnd() * 2_000);
    const headers: Record<string, Buffer> = {};
    if (headerKind === 'valid') headers.traceparent = Buffer.from(VALID_TP);
    if (headerKind === 'invalid') headers.traceparent = Buffer.from(BAD_TP);
    const arrived = field !== undefined || headerKind === 'valid';
    const ev: PipelineEvent = {
      source, topic: 'raw', partition: 0, offset: String(i), timestamp: 50_000 + i * 10, key: null, value: null, headers,
      record: dead === 'DECODE_FAILED' ? undefined : { correlation_id: field ?? null, user_id: ctx.user ? `u${i}` : null, session_ref: ctx.session ? '' : null },
      eventTime,
      meta: {
        steps: ['correlation', 'identity', 'lineage'], pseudonymized: [],
        correlation_id: arrived ? 'x' : `gen-${i}`, correlation_generated: !arrived,
        anonymous_id: ctx.anon ? `a${i}` : null, session_id: ctx.session ? `s${i}` : null,
        processed_at: eventTime === undefined ? undefined : eventTime + latency,
      },
    };
    if (dead) ev.failure = { reason: dead, message: 'x', stage: 'validate' };
    if (dropped) ev.dropped = dropped;
    out.push({ ev, truth: { tp: headerKind === 'valid', corrArrived: arrived, latency, dead, ctx, live: !dead && !dropped } });
  }
  return out;
}

const correlation: CorrelationStep = { kind: 'correlation', field: 'correlation_id', header: 'traceparent', generate: true };

function counts(slis: SliSpec[], events: Crafted[]) {
  const c = new SliClassifier(slis, () => { throw new Error('no CEL here'); }, { correlation });
  const obs = c.classify(events.map((e) => e.ev));
  const by = new Map<string, { good: number; total: number; offsets: string[]; latencies: number[]; times: number[] }>();
  for (const o of obs) {
    const t = by.get(o.sli) ?? { good: 0, total: 0, offsets: [], latencies: [], times: [] };
    t.total++;
    if (o.good) t.good++;
    t.offsets.push(o.offset);
    t.times.push(o.eventTime);
    if (o.latencyValue !== undefined) t.latencies.push(o.latencyValue);
    by.set(o.sli, t);
  }
  return by;
}

const EVENTS = crafted(2_000, 7);
const live = EVENTS.filter((e) => e.truth.live);

test('the crafted stream has every case in it', () => {
  expect(live.length).toBeGreaterThan(1_500);
  expect(EVENTS.filter((e) => e.truth.dead === 'DECODE_FAILED').length).toBeGreaterThan(50);
  expect(EVENTS.filter((e) => e.ev.dropped).length).toBeGreaterThan(50);
  expect(live.filter((e) => e.truth.tp).length).toBeGreaterThan(500);
  expect(live.filter((e) => !e.truth.tp && e.truth.corrArrived).length).toBeGreaterThan(100);
});

test('correlation-coverage: live events whose correlation id arrived (field or valid header), not generated', () => {
  const got = counts([builtin('coverage', { type: 'correlation-coverage' })], EVENTS).get('coverage')!;
  expect(got.total).toBe(live.length);
  expect(got.good).toBe(live.filter((e) => e.truth.corrArrived).length);
  expect(got.offsets).toEqual(live.map((e) => e.ev.offset));
});

test('correlation-coverage without a correlation step: a valid traceparent header', () => {
  const c = new SliClassifier([builtin('coverage', { type: 'correlation-coverage' })]);
  const stripped = live.map((e) => ({ ...e.ev, meta: { steps: ['lineage'], pseudonymized: [] } }));
  const obs = c.classify(stripped);
  expect(obs.length).toBe(live.length);
  expect(obs.filter((o) => o.good).length).toBe(live.filter((e) => e.truth.tp).length);
});

test('trace-completeness: live events that arrived with a valid W3C traceparent', () => {
  const got = counts([builtin('trace', { type: 'trace-completeness' })], EVENTS).get('trace')!;
  expect(got.total).toBe(live.length);
  expect(got.good).toBe(live.filter((e) => e.truth.tp).length);
  // an all-zero trace id is invalid, so the invalid header really was present and refused
  expect(live.some((e) => e.ev.headers.traceparent?.toString() === BAD_TP)).toBe(true);
});

test('delivery-latency: processed_at - event time, good when within the threshold, values for the sketch', () => {
  const got = counts([builtin('delivery', { type: 'delivery-latency', thresholdMs: 1_000 })], EVENTS).get('delivery')!;
  expect(got.total).toBe(live.length);
  expect(got.good).toBe(live.filter((e) => e.truth.latency <= 1_000).length);
  expect(got.latencies).toEqual(live.map((e) => e.truth.latency));
  expect(sliMeasure(builtin('d', { type: 'delivery-latency', thresholdMs: 1 }))).toBe('latency');
});

test('ingestion-errors: every consumed event counts, dead letters are bad, placed at event time or broker time', () => {
  const got = counts([builtin('ingest', { type: 'ingestion-errors' })], EVENTS).get('ingest')!;
  expect(got.total).toBe(EVENTS.length);
  expect(got.good).toBe(EVENTS.filter((e) => !e.truth.dead).length);
  expect(got.times).toEqual(EVENTS.map((e) => e.ev.eventTime ?? e.ev.timestamp));
});

test('ingestion-errors with reasons: only those reasons are bad', () => {
  const got = counts([builtin('ingest', { type: 'ingestion-errors', reasons: ['DECODE_FAILED'] })], EVENTS).get('ingest')!;
  expect(got.total).toBe(EVENTS.length);
  expect(got.good).toBe(EVENTS.filter((e) => e.truth.dead !== 'DECODE_FAILED').length);
});

test('missing-context: every entry present (record field or tracklane meta), a list entry is any of its fields', () => {
  const both = counts([builtin('ctx', { type: 'missing-context', fields: [['user_id'], ['session_id']] })], EVENTS).get('ctx')!;
  expect(both.total).toBe(live.length);
  expect(both.good).toBe(live.filter((e) => e.truth.ctx.user && e.truth.ctx.session).length);
  const anyId = counts([builtin('ctx', { type: 'missing-context', fields: [['user_id', 'anonymous_id'], ['tracklane.session_id']] })], EVENTS).get('ctx')!;
  expect(anyId.good).toBe(live.filter((e) => (e.truth.ctx.user || e.truth.ctx.anon) && e.truth.ctx.session).length);
  // session_ref is '' or null in the record: blank is missing
  const blank = counts([builtin('ctx', { type: 'missing-context', fields: [['session_ref']] })], EVENTS).get('ctx')!;
  expect(blank.good).toBe(0);
});

test('CEL SLIs next to builtins still see only live events', () => {
  const cel: SliSpec = { name: 'all', kind: 'ratio', good: 'true', total: 'true', groupBy: [], maxSeries: 10 };
  const got = counts([cel, builtin('ingest', { type: 'ingestion-errors' })], EVENTS);
  expect(got.get('all')!.total).toBe(live.length);
  expect(got.get('ingest')!.total).toBe(EVENTS.length);
});

describe('declaring builtins in a topology', () => {
  const doc = (slis: string, slos = '') => `apiVersion: tracklane/v1
kind: Topology
metadata: { name: inline, version: 1 }
spec:
  sources:
    - { name: web, topic: raw.inline, eventTime: { field: ts }, idempotencyKey: event_id }
  enrich:
    - correlation: { field: correlation_id, header: traceparent, generate: true }
  outputs:
    enriched: { topic: enriched.inline }
    deadLetter: { topic: dlq.inline }
    metrics: { topic: slo.metrics }
    alerts: { topic: slo.alerts }
  slis:
${slis}
${slos}`;
  const errorsOf = (text: string): string[] => {
    try {
      loadTopologyText(text, 'inline.yaml');
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      return (err as UserError).details;
    }
    throw new Error('expected a UserError');
  };

  test('every builtin loads into its measure; they get SLOs and no CEL expressions', () => {
    const t = loadTopologyText(doc(`    - { name: coverage, builtin: correlation-coverage }
    - { name: trace, builtin: trace-completeness }
    - { name: delivery, builtin: delivery-latency, threshold: 2s }
    - { name: ingest, builtin: ingestion-errors, reasons: [DECODE_FAILED, VALIDATION_FAILED] }
    - { name: ctx, builtin: missing-context, fields: [[user_id, anonymous_id], session_id], groupBy: [region] }`,
    `  slos:
    - { name: coverage-slo, sli: coverage, objective: 0.95 }
    - { name: delivery-slo, sli: delivery, objective: 0.99 }`), 'inline.yaml');
    expect(t.slis.map((s) => (s as BuiltinSli).builtin)).toEqual([
      { type: 'correlation-coverage' },
      { type: 'trace-completeness' },
      { type: 'delivery-latency', thresholdMs: 2_000 },
      { type: 'ingestion-errors', reasons: ['DECODE_FAILED', 'VALIDATION_FAILED'] },
      { type: 'missing-context', fields: [['user_id', 'anonymous_id'], ['session_id']] },
    ]);
    expect(t.slis[4].groupBy).toEqual(['region']);
    expect(expressionRefs(t)).toEqual([]);
    const openslo = exportOpenSlo(t).yaml;
    expect(openslo).toContain('builtin: correlation-coverage');
    expect(openslo).toContain('delivery_latency_ms <= 2000');
  });

  test('wrong options are errors with a path', () => {
    const errors = errorsOf(doc(`    - { name: a, builtin: missing-context }
    - { name: b, builtin: delivery-latency }
    - { name: c, builtin: trace-completeness, fields: [x] }
    - { name: d, builtin: cardinality }
    - { name: e, builtin: ingestion-errors, reasons: [NOPE] }
    - { name: f, ratio: { good: "true" }, threshold: 1s }
    - { name: g, builtin: trace-completeness, ratio: { good: "true" } }`)).join('\n');
    expect(errors).toMatch(/slis\[0\].*builtin missing-context needs fields/);
    expect(errors).toMatch(/slis\[1\].*builtin delivery-latency needs threshold/);
    expect(errors).toMatch(/slis\[2\].*builtin trace-completeness takes no fields/);
    expect(errors).toMatch(/slis\[3\]\.builtin/);
    expect(errors).toMatch(/slis\[4\]\.reasons/);
    expect(errors).toMatch(/slis\[5\].*threshold is an option of built-in SLIs/);
    expect(errors).toMatch(/slis\[6\].*exactly one of/);
  });
});


describe('docs/tracking-slis.md example', () => {
  const ROOT = path.resolve(__dirname, '../..');
  const example = fs.readFileSync(path.join(ROOT, 'docs/tracking-slis.md'), 'utf8').match(/```yaml\nspec:\n([\s\S]*?)```/)![1];
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-builtin-')), 'pipeline.yaml');
  fs.writeFileSync(file, `apiVersion: tracklane/v1
kind: Topology
metadata: { name: pipeline, version: 1 }
spec:
  sources:
    - { name: web, topic: raw.pipeline, eventTime: { field: ts }, idempotencyKey: event_id }
  outputs:
    enriched: { topic: enriched.pipeline }
    deadLetter: { topic: dlq.pipeline }
    metrics: { topic: slo.metrics }
    alerts: { topic: slo.alerts }
${example}`);

  test('tracklane check accepts it', async () => {
    const out: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const program = new Command('tracklane').exitOverride();
      registerCheck(program);
      process.exitCode = undefined;
      await program.parseAsync(['node', 'tracklane', 'check', '-t', file]);
      expect(process.exitCode ?? 0).toBe(0);
      expect(err).not.toHaveBeenCalled();
      expect(out.join('')).toMatch(/ok: pipeline v1: 1 sources, 1 steps, 6 SLIs, 2 SLOs/);
    } finally {
      jest.restoreAllMocks();
      process.exitCode = undefined;
    }
  });

  test('rules and the status page treat the builtins like any SLI', () => {
    const t = loadTopology(file);
    const rules = parse(prometheusRules(t)) as { groups: Array<{ name: string; rules: Array<Record<string, unknown>> }> };
    expect(rules.groups.map((g) => g.name)).toEqual([
      'tracklane-pipeline-coverage-slo-sli-recordings', 'tracklane-pipeline-coverage-slo-alerts',
      'tracklane-pipeline-delivery-slo-sli-recordings', 'tracklane-pipeline-delivery-slo-alerts',
    ]);
    expect(JSON.stringify(rules)).toContain('tracklane_sli_events_total{topology=\\"pipeline\\", sli=\\"coverage\\"}');
    expect(t.slos.map((s) => sloInfo(s, t).sliKind)).toEqual(['builtin correlation-coverage', 'builtin delivery-latency']);
  });

  test('OpenSLO export and import give the builtins back', () => {
    const text = fs.readFileSync(file, 'utf8');
    const before = loadTopology(file);
    // every builtin in an SLO, so that OpenSLO (no SLI without an objective) carries them all
    const slos = before.slis.map((s) => `    - { name: ${s.name}-slo, sli: ${s.name}, objective: 0.9 }`).join('\n');
    const all = loadTopologyText(text.replace(/  slos:[\s\S]*$/, `  slos:\n${slos}\n`), file);
    const imported = importOpenSlo(exportOpenSlo(all).yaml);
    expect(imported.notes).toEqual([]);
    const doc = parseDocument(text);
    doc.setIn(['spec', 'slis'], doc.createNode(imported.slis));
    doc.setIn(['spec', 'slos'], doc.createNode(imported.slos));
    const after = loadTopologyText(doc.toString(), file);
    expect(after.slis).toEqual(all.slis);
    expect(after.slos).toEqual(all.slos);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { Command } from 'commander';
import { UserError } from '../../src/errors';
import { registerCheck } from '../../src/cli/check';
import { CelCompileError, CelEvaluationError, compileCel, MAX_SOURCE_LENGTH } from '../../src/expr/cel';
import { DurationError, formatDuration, parseDuration } from '../../src/topology/duration';
import { loadTopology, loadTopologyText } from '../../src/topology/load';
import { DEFAULTS } from '../../src/topology/schema';
import { ENRICH_STEPS, KNOWN_STEP_NAMES } from '../../src/topology/steps';
import type { IdentityStep, RatioSli } from '../../src/topology/types';

const ROOT = path.resolve(__dirname, '../..');
const BAD = path.join(ROOT, 'test/topologies/bad');
const rel = (p: string) => path.relative(process.cwd(), path.join(ROOT, p));

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as UserError).details;
  }
  throw new Error('expected a UserError');
}

/** A small valid document; `spec` lines are appended under spec. */
function doc(specExtra = '', sourceExtra = ''): string {
  return `apiVersion: tracklane/v1
kind: Topology
metadata: { name: inline, version: 2 }
spec:
  sources:
    - name: web
      topic: raw.inline
      eventTime: { field: ts }
      idempotencyKey: event_id
${sourceExtra}  outputs:
    enriched: { topic: enriched.inline }
    deadLetter: { topic: dlq.inline }
    metrics: { topic: slo.metrics }
    alerts: { topic: slo.alerts }
${specExtra}`;
}

describe('duration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 5 * MIN],
    ['2h', 2 * HOUR],
    ['30d', 30 * DAY],
    ['1h30m', 90 * MIN],
    ['1d2h3m4s5ms', DAY + 2 * HOUR + 3 * MIN + 4_000 + 5],
    ['0s', 0],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 's', '1.5s', '-5m', '30m1h', '1h1h', '5 m', ' 5m', '5M', '1w', '10y', 'PT5M', '99999999999999999999d'])('rejects %p', (text) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
  });

  it('formats canonically', () => {
    expect(formatDuration(90 * MIN)).toBe('1h30m');
    expect(formatDuration(30 * DAY)).toBe('30d');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(0)).toBe('0s');
    for (const t of ['1d2h', '5m30s', '1s500ms']) expect(formatDuration(parseDuration(t))).toBe(t);
  });
});

describe('CEL', () => {
  const ev = { status: 'ok', type: 'checkout', region: 'eu', duration_ms: 250, user_id: null as string | null };

  it('evaluates conditions over event fields', () => {
    expect(compileCel("status == 'ok'").evaluate(ev)).toBe(true);
    expect(compileCel("status == 'ok'").evaluate({ ...ev, status: 'error' })).toBe(false);
    expect(compileCel("type == 'checkout' && region in ['eu','us']").evaluate(ev)).toBe(true);
    expect(compileCel("type == 'checkout' && region in ['eu','us']").evaluate({ ...ev, region: 'apac' })).toBe(false);
    expect(compileCel("type == 'checkout' && region in ['eu','us']").evaluate({ ...ev, type: 'page_view' })).toBe(false);
  });

  it('compares JS numbers with int literals and mixes them in arithmetic', () => {
    const le = compileCel('duration_ms <= 300');
    expect(le.evaluate({ duration_ms: 250 })).toBe(true);
    expect(le.evaluate({ duration_ms: 300 })).toBe(true);
    expect(le.evaluate({ duration_ms: 300.5 })).toBe(false);
    expect(le.evaluate({ duration_ms: 301 })).toBe(false);
    expect(compileCel('duration_ms == 300').evaluate({ duration_ms: 300 })).toBe(true);
    expect(compileCel('code in [500, 503]').evaluate({ code: 503 })).toBe(true);
    expect(compileCel('duration_ms / 1000 < 1').evaluate({ duration_ms: 250 })).toBe(true);
    expect(compileCel('duration_ms + 1 == 251').evaluate({ duration_ms: 250 })).toBe(true);
    expect(compileCel('int(code) % 100 == 3').evaluate({ code: 503 })).toBe(true);
    expect(compileCel('amount > 10').evaluate({ amount: 11n })).toBe(true);
  });

  it('treats a missing field as an error that && and || may absorb', () => {
    const p = compileCel("missing == 'x'");
    expect(() => p.evaluate(ev)).toThrow(CelEvaluationError);
    try {
      p.evaluate(ev);
    } catch (err) {
      expect((err as CelEvaluationError).code).toBe('unknown_variable');
      expect((err as CelEvaluationError).expression).toBe("missing == 'x'");
    }
    expect(compileCel("false && missing == 'x'").evaluate(ev)).toBe(false);
    expect(compileCel("missing == 'x' || status == 'ok'").evaluate(ev)).toBe(true);
    expect(compileCel('user_id == null').evaluate(ev)).toBe(true);
    expect(compileCel("user_id == 'u1'").evaluate(ev)).toBe(false);
  });

  it('binds the whole record as event for has()', () => {
    expect(compileCel('has(event.email)').evaluate(ev)).toBe(false);
    expect(compileCel('has(event.email)').evaluate({ ...ev, email: 'a@b' })).toBe(true);
    expect(compileCel("event == 'signup'").evaluate({ event: 'signup' })).toBe(true);
  });

  it('lets fields named like CEL types win, keeping type names usable', () => {
    expect(compileCel("type == 'checkout'").evaluate({ type: 'checkout' })).toBe(true);
    expect(compileCel('string == 1').evaluate({ string: 1 })).toBe(true);
    expect(compileCel('type(duration_ms) == double').evaluate(ev)).toBe(true);
    expect(compileCel('type(1) == int').evaluate(ev)).toBe(true);
    expect(compileCel('tags.exists(type, type == 1)').evaluate({ tags: [1n] })).toBe(true);
  });

  it('reads decoded Avro records (class instances, nested records, bytes)', () => {
    const type = avro.Type.forSchema({
      type: 'record',
      name: 'T',
      fields: [
        { name: 'type', type: 'string' },
        { name: 'payload', type: 'bytes' },
        { name: 'geo', type: { type: 'record', name: 'Geo', fields: [{ name: 'country', type: 'string' }] } },
      ],
    });
    const record = type.fromBuffer(type.toBuffer({ type: 'checkout', payload: Buffer.from('hi'), geo: { country: 'DE' } }));
    expect(record.constructor).not.toBe(Object);
    expect(compileCel("type == 'checkout' && geo.country == 'DE' && size(payload) == 2").evaluate(record)).toBe(true);
    expect(compileCel("has(event.geo) && event.geo.country == 'DE'").evaluate(record)).toBe(true);
  });

  it('throws CelEvaluationError when the result is not a bool', () => {
    const p = compileCel('duration_ms');
    expect(() => p.evaluate(ev)).toThrow(CelEvaluationError);
    try {
      p.evaluate(ev);
    } catch (err) {
      expect((err as CelEvaluationError).code).toBe('not_bool');
    }
  });

  it('rejects bad expressions at compile time with an offset', () => {
    const cases: Array<[string, number, RegExp]> = [
      ["status == = 'ok'", 10, /Unexpected/],
      ['1 + 2', 0, /must be a condition/],
      ["1 + 'a' == 2", 0, /overload/],
      ['', 0, /empty/],
    ];
    for (const [expr, offset, message] of cases) {
      try {
        compileCel(expr);
        throw new Error(`compiled: ${expr}`);
      } catch (err) {
        expect(err).toBeInstanceOf(CelCompileError);
        expect((err as CelCompileError).offset).toBe(offset);
        expect((err as CelCompileError).summary).toMatch(message);
      }
    }
  });

  it('guards against hostile expressions', () => {
    expect(() => compileCel('a == 1 || '.repeat(MAX_SOURCE_LENGTH / 5))).toThrow(/limit is 2000/);
    expect(() => compileCel('('.repeat(100) + 'true' + ')'.repeat(100))).toThrow(/maxDepth/);
    expect(() => compileCel(Array.from({ length: 300 }, (_, i) => `f${i} == 1`).join(' || '))).toThrow(/maxAstNodes|limit/);
    expect(() => compileCel("url.matches('(a+)+$')")).toThrow(/nests quantifiers/);
    expect(() => compileCel("url.matches('(a|aa)*b')")).toThrow(/nests quantifiers/);
    expect(() => compileCel('url.matches(pattern)')).toThrow(/literal pattern/);
    expect(() => compileCel("url.matches('[')")).toThrow(/does not compile/);
    expect(compileCel("url.matches('^/checkout/[0-9]+$')").evaluate({ url: '/checkout/42' })).toBe(true);
  });

  it('compiles each source once', () => {
    expect(compileCel("status == 'ok'")).toBe(compileCel("status == 'ok'"));
  });
});

describe('loading the examples', () => {
  it('loads topologies/checkout.yaml', () => {
    const t = loadTopology(rel('topologies/checkout.yaml'));
    expect(t.file).toBe(path.join(ROOT, 'topologies/checkout.yaml'));
    expect([t.name, t.version, t.delivery]).toEqual(['checkout', 3, 'exactly-once']);
    expect(t.sources).toHaveLength(1);
    const web = t.sources[0];
    expect(web).toMatchObject({ name: 'web', topic: 'raw.checkout', format: 'avro', subject: 'raw.checkout-value', partitions: 8, idempotencyKey: 'event_id' });
    expect(web.eventTime).toEqual({ field: 'ts', maxFutureSkewMs: 5 * MIN });
    expect(web.schema).toBe(path.join(ROOT, 'schemas/checkout-event.avsc'));
    expect(web.maxValueBytes).toBe(1024 * 1024);
    expect(t.enrich.map((s) => s.kind)).toEqual(['correlation', 'identity', 'session', 'pseudonymize', 'consent']);
    expect(t.enrich[0]).toEqual({ kind: 'correlation', field: 'correlation_id', header: 'traceparent', generate: true });
    const identity = t.enrich[1] as IdentityStep;
    expect(identity).toMatchObject({ anonymousId: 'anonymous_id', userId: 'user_id', ttlMs: 90 * DAY, maxUsersPerAnonymousId: 5 });
    expect(identity.blockedValues).toEqual(['', 'null', 'undefined', '0', 'anonymous', 'none', 'nan']);
    expect(t.enrich[2]).toEqual({ kind: 'session', by: ['user_id', 'anonymous_id'], gapMs: 30 * MIN, maxSessionsPerKey: 1000 });
    expect(t.enrich[3]).toEqual({ kind: 'pseudonymize', fields: ['email', 'ip'] });
    expect(t.enrich[4]).toEqual({ kind: 'consent', field: 'consent_analytics', whenDenied: 'strip' });
    expect(t.dedupe).toEqual({ key: 'event_id', windowMs: DAY, onConflict: 'deadletter' });
    expect(t.outputs.alerts).toEqual({ topic: 'slo.alerts', format: 'avro' });
    expect(t.windows).toEqual({ bucketMs: MIN, allowedLatenessMs: 2 * MIN, idleTimeoutMs: 30_000 });
    expect(t.slis.map((s) => [s.name, s.kind, s.groupBy])).toEqual([
      ['checkout-success', 'ratio', ['region']],
      ['checkout-latency', 'latency', []],
    ]);
    expect(t.slis[0].maxSeries).toBe(20);
    expect(t.slis[1]).toMatchObject({ field: 'duration_ms', threshold: 300, filter: "type == 'checkout'" });
    const [availability, latency] = t.slos;
    expect(availability).toMatchObject({ name: 'checkout-availability', sli: 'checkout-success', objective: 0.999, periodMs: 30 * DAY, minEvents: 10, runbook: 'https://runbooks.example/checkout' });
    expect(availability.tiers.map((x) => [x.name, x.severity, x.longWindowMs, x.shortWindowMs])).toEqual([
      ['1h/5m', 'page', HOUR, 5 * MIN],
      ['6h/30m', 'page', 6 * HOUR, 30 * MIN],
      ['1d/2h', 'ticket', DAY, 2 * HOUR],
      ['3d/6h', 'ticket', 3 * DAY, 6 * HOUR],
    ]);
    expect(availability.tiers.map((x) => x.threshold)).toEqual([14.4, 6, 3, 1].map((n) => expect.closeTo(n, 9)));
    expect(latency.objective).toBe(0.99);
    expect(latency.tiers.map((x) => x.name)).toEqual(['1h/5m', '6h/30m', '1d/2h']);
    // Every expression in the example compiles and behaves.
    const sli = t.slis[0] as RatioSli;
    expect(compileCel(sli.total).evaluate({ type: 'checkout', status: 'ok' })).toBe(true);
  });

  it('returns a deeply frozen topology', () => {
    const t = loadTopology(rel('topologies/checkout.yaml'));
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t.sources[0].eventTime)).toBe(true);
    expect(Object.isFrozen(t.slos[0].tiers[0])).toBe(true);
    expect(() => (t.sources as unknown as unknown[]).push({})).toThrow();
  });

  it('loads topologies/minimal.yaml with its defaults', () => {
    const t = loadTopology(rel('topologies/minimal.yaml'));
    expect(t.delivery).toBe('at-least-once');
    expect(t.enrich).toEqual([{ kind: 'correlation', field: 'correlation_id', header: 'traceparent', generate: true }]);
    expect(t.dedupe).toBeUndefined();
    expect(t.sources[0]).toMatchObject({ format: 'avro', subject: 'raw.minimal-value', partitions: 1, maxValueBytes: 1_048_576 });
    expect(t.sources[0].eventTime.maxFutureSkewMs).toBe(5 * MIN);
    expect(t.windows).toEqual({ bucketMs: MIN, allowedLatenessMs: 2 * MIN, idleTimeoutMs: 30_000 });
    expect(t.slis).toEqual([{ name: 'success', kind: 'ratio', good: "status == 'ok'", total: 'true', groupBy: [], maxSeries: 100 }]);
    expect(t.slos[0]).toMatchObject({ name: 'availability', sli: 'success', objective: 0.99, periodMs: 30 * DAY, minEvents: 10 });
    expect(t.slos[0].runbook).toBeUndefined();
    expect(t.slos[0].tiers).toHaveLength(4);
  });

  it('ships Avro schemas where v2 reads v1 data (backward compatible)', () => {
    const read = (f: string) => avro.Type.forSchema(JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', f), 'utf8')));
    const v1 = read('checkout-event-v1.avsc');
    const v2 = read('checkout-event.avsc');
    expect(v2.name).toBe('tracklane.examples.CheckoutEvent');
    const old = { event_id: 'e1', ts: 1_700_000_000_000, type: 'checkout', status: 'ok', region: 'eu', duration_ms: 120, url: '/c', anonymous_id: 'a1', user_id: null, email: null, ip: null };
    const decoded = v2.fromBuffer(v1.toBuffer(old), v2.createResolver(v1));
    expect(decoded).toMatchObject({ ...old, consent_analytics: true, correlation_id: null, amount_cents: null });
  });
});

describe('defaults and options', () => {
  it('fills step, dedupe and window defaults', () => {
    const t = loadTopologyText(
      doc(`  enrich:
    - identity: { anonymousId: anonymous_id, userId: user_id, blockedValues: [guest] }
    - session: { by: [anonymous_id] }
    - consent: { field: consent_analytics, fields: [email] }
  dedupe: {}
  windows: { bucket: 30s }
`),
      'inline.yaml',
    );
    expect(t.enrich[0]).toEqual({ kind: 'identity', anonymousId: 'anonymous_id', userId: 'user_id', ttlMs: 90 * DAY, maxUsersPerAnonymousId: 5, blockedValues: ['guest'] });
    expect(t.enrich[1]).toEqual({ kind: 'session', by: ['anonymous_id'], gapMs: 30 * MIN, maxSessionsPerKey: 1000 });
    expect(t.enrich[2]).toEqual({ kind: 'consent', field: 'consent_analytics', whenDenied: 'strip', fields: ['email'] });
    expect(t.dedupe).toEqual({ key: 'event_id', windowMs: DAY, onConflict: 'deadletter' });
    expect(t.windows).toEqual({ bucketMs: 30_000, allowedLatenessMs: 2 * MIN, idleTimeoutMs: 30_000 });
    expect(t.delivery).toBe(DEFAULTS.delivery);
  });

  it('computes explicit tiers from a threshold or a budget fraction, and scales google-sre ones', () => {
    const t = loadTopologyText(
      doc(`  slis:
    - name: s
      latency: { field: duration_ms, threshold: 300 }
  slos:
    - name: explicit
      sli: s
      objective: 0.999
      alerting:
        tiers:
          - { severity: page, long: 1h, short: 5m, budgetFraction: 0.02 }
          - { name: slow-burn, severity: ticket, long: 3d, short: 6h, threshold: 1 }
    - name: weekly
      sli: s
      objective: 0.99
      period: 7d
      alerting: { disable: ["3d/6h"] }
    - name: quiet
      sli: s
      objective: 0.99
      alerting: { tiers: none }
`),
      'inline.yaml',
    );
    const [explicit, weekly, quiet] = t.slos;
    expect(explicit.tiers[0]).toEqual({ name: '1h/5m', severity: 'page', longWindowMs: HOUR, shortWindowMs: 5 * MIN, threshold: expect.closeTo(14.4, 9) });
    expect(explicit.tiers[1]).toEqual({ name: 'slow-burn', severity: 'ticket', longWindowMs: 3 * DAY, shortWindowMs: 6 * HOUR, threshold: 1 });
    expect(weekly.tiers.map((x) => [x.name, x.longWindowMs])).toEqual([
      ['1h/5m', Math.round((HOUR * 7) / 30)],
      ['6h/30m', Math.round((6 * HOUR * 7) / 30)],
      ['1d/2h', Math.round((DAY * 7) / 30)],
    ]);
    expect(weekly.tiers[0].threshold).toBeCloseTo(14.4, 3);
    expect(quiet.tiers).toEqual([]);
  });

  it('resolves schema paths against the topology file folder', () => {
    const t = loadTopologyText(doc('', '      schema: ../schemas/checkout-event.avsc\n'), path.join(ROOT, 'topologies/x.yaml'));
    expect(t.sources[0].schema).toBe(path.join(ROOT, 'schemas/checkout-event.avsc'));
  });
});

describe('golden bad topologies', () => {
  const files = fs.readdirSync(BAD).filter((f) => f.endsWith('.yaml'));

  it('has a .expected file for every case', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) expect(fs.existsSync(path.join(BAD, f.replace(/\.yaml$/, '.expected')))).toBe(true);
  });

  it.each(files)('%s reports exactly the expected errors', (f) => {
    const file = path.relative(process.cwd(), path.join(BAD, f));
    const expected = fs
      .readFileSync(path.join(BAD, f.replace(/\.yaml$/, '.expected')), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const m = /^(\d+):(\d+) (.+)$/.exec(l);
        if (!m) throw new Error(`bad .expected line: ${l}`);
        return { prefix: `${file}:${m[1]}:${m[2]} `, text: m[3] };
      });
    const details = errorsOf(() => loadTopology(file));
    const unmatched = [...details];
    for (const e of expected) {
      const i = unmatched.findIndex((d) => d.startsWith(e.prefix) && d.includes(e.text));
      if (i < 0) throw new Error(`no error "${e.prefix}… ${e.text}" in:\n${details.join('\n')}`);
      unmatched.splice(i, 1);
    }
    expect(unmatched).toEqual([]);
  });

  it('reports several errors at once, sorted by position, in one UserError', () => {
    try {
      loadTopology(path.join(BAD, 'wrong-types.yaml'));
      throw new Error('loaded');
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      const e = err as UserError;
      expect(e.code).toBe('USER_ERROR');
      expect(e.message).toMatch(/wrong-types\.yaml: invalid topology \(7 errors\)/);
      const lines = e.details.map((d) => Number(/:(\d+):\d+ /.exec(d)![1]));
      expect(lines).toEqual([...lines].sort((a, b) => a - b));
    }
  });
});

describe('other load errors', () => {
  it('reports an unreadable file without a position or stack', () => {
    const details = errorsOf(() => loadTopology('no/such/topology.yaml'));
    expect(details).toEqual(['no/such/topology.yaml: cannot read topology file (no such file)']);
  });

  it.each([
    ['an empty file', '', /1:1 \(document\): expected object/],
    ['a list', '- a\n- b\n', /1:1 \(document\): expected object, got a list/],
    ['duplicate keys', 'apiVersion: tracklane/v1\napiVersion: tracklane/v2\n', /2:1 YAML: Map keys must be unique/],
    ['two documents', 'a: 1\n---\nb: 2\n', /YAML: Source contains multiple documents/],
    ['a tab indent', 'spec:\n\tsources: []\n', /2:1 YAML:/],
    ['wrong apiVersion', doc().replace('tracklane/v1', 'tracklane/v2'), /1:13 apiVersion: expected "tracklane\/v1", got string "tracklane\/v2"/],
    ['a step without options', doc('  enrich:\n    - session:\n'), /16:7 spec\.enrich\[0\]\.session\.by: required field is missing/],
    ['a bad metadata name', doc().replace('name: inline', 'name: In_Line'), /3:19 metadata\.name: must match \[a-z0-9-\]\+/],
  ])('reports %s with a position', (_what, text, pattern) => {
    const details = errorsOf(() => loadTopologyText(text, 'x.yaml'));
    expect(details.join('\n')).toMatch(pattern);
  });

  it('points CEL errors at the character inside quoted and block scalars', () => {
    const text = doc(`  slis:
    - name: a
      ratio:
        good: 'status == == 1'
    - name: b
      ratio:
        good: >-
          status == ==
`);
    const details = errorsOf(() => loadTopologyText(text, 'x.yaml'));
    expect(details[0]).toMatch(/^x\.yaml:18:26 spec\.slis\[0\]\.ratio\.good: CEL: /);
    expect(details[1]).toMatch(/^x\.yaml:22:21 spec\.slis\[1\]\.ratio\.good: CEL: /);
  });
});

describe('tracklane check', () => {
  let out: string[];
  let err: string[];
  beforeEach(() => {
    out = [];
    err = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    jest.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    process.exitCode = undefined;
  });

  async function check(file: string): Promise<number> {
    const program = new Command('tracklane').exitOverride();
    registerCheck(program);
    process.exitCode = undefined;
    await program.parseAsync(['node', 'tracklane', 'check', '-t', file]);
    return Number(process.exitCode ?? 0);
  }

  it('prints a summary and exits 0 for a valid topology', async () => {
    expect(await check(rel('topologies/checkout.yaml'))).toBe(0);
    expect(out.join('')).toBe('ok: checkout v3: 1 sources, 5 steps, 2 SLIs, 2 SLOs\n');
    expect(err).toEqual([]);
  });

  it('prints each file:line:col message on stderr and exits 1', async () => {
    const file = rel('test/topologies/bad/missing-sli.yaml');
    expect(await check(file)).toBe(1);
    expect(out).toEqual([]);
    expect(err.join('')).toBe(`${file}:22:12 spec.slos[0].sli: SLO refers to SLI "checkout-sucess", which does not exist; defined SLIs: checkout-success, checkout-latency\n`);
  });

  it('reports YAML syntax errors and unreadable files without a stack trace', async () => {
    expect(await check(rel('test/topologies/bad/yaml-syntax.yaml'))).toBe(1);
    expect(err.join('')).toMatch(/yaml-syntax\.yaml:4:1 YAML: /);
    err.length = 0;
    expect(await check('missing.yaml')).toBe(1);
    expect(err.join('')).toBe('missing.yaml: cannot read topology file (no such file)\n');
    expect(err.join('')).not.toMatch(/\n\s+at /);
  });
});

describe('docs/topology.md', () => {
  const text = fs.readFileSync(path.join(ROOT, 'docs/topology.md'), 'utf8');

  it('documents every enrichment step and its options', () => {
    for (const step of ENRICH_STEPS) expect(text).toContain(`\`${step.name}\``);
    expect(KNOWN_STEP_NAMES).toEqual(['correlation', 'identity', 'session', 'pseudonymize', 'consent', 'pii-scan', 'sample']);
  });

  it('documents every default', () => {
    for (const [key, value] of Object.entries(DEFAULTS)) {
      const shown = key === 'maxValueBytes' ? '1048576' : String(value);
      expect({ key, found: text.includes(shown) }).toEqual({ key, found: true });
    }
  });
});

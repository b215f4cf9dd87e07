import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';
import { exportOpenSlo } from '../../src/slo/openslo/export';
import { importOpenSlo } from '../../src/slo/openslo/import';
import { loadTopologyText } from '../../src/topology/load';
import type { Topology } from '../../src/topology/types';

// OpenSLO v1 export and import: import(export(t)) gives back the topology's SLOs and the SLIs
// they use, for every example topology and for the shapes the examples do not have.

const ROOT = path.resolve(__dirname, '../..');
const TOPOLOGIES = path.join(ROOT, 'topologies');

/** The topology file with spec.slis / spec.slos replaced by an import's, loaded like any other. */
function withImported(text: string, file: string, imported: { slis: unknown[]; slos: unknown[] }): Topology {
  const doc = parseDocument(text);
  doc.setIn(['spec', 'slis'], doc.createNode(imported.slis));
  doc.setIn(['spec', 'slos'], doc.createNode(imported.slos));
  return loadTopologyText(doc.toString(), file);
}

function roundTrip(text: string, file: string): { before: Topology; after: Topology; notes: string[] } {
  const before = loadTopologyText(text, file);
  const exported = exportOpenSlo(before);
  const imported = importOpenSlo(exported.yaml);
  const after = withImported(text, file, imported);
  return { before, after, notes: imported.notes.map((n) => `${n.doc}: ${n.message}`) };
}

const used = (t: Topology) => t.slis.filter((s) => t.slos.some((o) => o.sli === s.name));

describe('OpenSLO round trip over topologies/*.yaml', () => {
  const files = fs.readdirSync(TOPOLOGIES).filter((f) => f.endsWith('.yaml'));
  it('has example topologies with SLOs', () => expect(files.length).toBeGreaterThanOrEqual(2));

  it.each(files)('%s: import(export(t)) has the same SLOs and SLIs, with nothing left unmapped', (name) => {
    const file = path.join(TOPOLOGIES, name);
    const { before, after, notes } = roundTrip(fs.readFileSync(file, 'utf8'), file);
    expect(before.slos.length).toBeGreaterThan(0);
    expect(notes).toEqual([]);
    expect(after.slos).toEqual(before.slos);
    expect(after.slis).toEqual(used(before));
  });
});

describe('OpenSLO export', () => {
  const file = path.join(TOPOLOGIES, 'checkout.yaml');
  const t = loadTopologyText(fs.readFileSync(file, 'utf8'), file);
  const docs = parseAllDocuments(exportOpenSlo(t).yaml).map((d) => d.toJS());

  it('writes openslo/v1 SLI, SLO, AlertPolicy and AlertNotificationTarget documents', () => {
    for (const d of docs) expect(d.apiVersion).toBe('openslo/v1');
    const kinds = docs.map((d) => d.kind);
    expect(kinds.filter((k) => k === 'SLI')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'SLO')).toHaveLength(2);
    // google-sre: 4 tiers for availability, 3 for latency (3d/6h disabled).
    expect(kinds.filter((k) => k === 'AlertPolicy')).toHaveLength(7);
    expect(kinds.filter((k) => k === 'AlertNotificationTarget')).toHaveLength(1);
    for (const d of docs) expect(d.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });

  it('maps a ratio SLO to ratioMetric with CEL queries, Occurrences, a rolling window and a target', () => {
    const slo = docs.find((d) => d.kind === 'SLO' && d.metadata.name === 'checkout-availability');
    expect(slo.spec).toMatchObject({
      service: 'checkout', indicatorRef: 'checkout-success', budgetingMethod: 'Occurrences',
      timeWindow: [{ duration: '30d', isRolling: true }], objectives: [{ target: 0.999 }],
    });
    expect(slo.spec.alertPolicies).toContainEqual({ alertPolicyRef: 'checkout-availability-1h-5m' });
    const sli = docs.find((d) => d.kind === 'SLI' && d.metadata.name === 'checkout-success');
    expect(sli.spec.ratioMetric.good.metricSource).toEqual({ type: 'tracklane', spec: { expression: "status == 'ok'" } });
    expect(sli.spec.ratioMetric.total.metricSource.spec).toEqual({ expression: "type == 'checkout'", groupBy: ['region'], maxSeries: 20 });
  });

  it('maps a latency SLO to a thresholdMetric and an lte objective, and a tier to a burnrate condition', () => {
    const slo = docs.find((d) => d.kind === 'SLO' && d.metadata.name === 'checkout-latency');
    expect(slo.spec.objectives).toEqual([{ displayName: 'duration_ms <= 300', op: 'lte', value: 300, target: 0.99 }]);
    const page = docs.find((d) => d.kind === 'AlertPolicy' && d.metadata.name === 'checkout-availability-1h-5m');
    expect(page.spec.conditions[0].spec).toEqual({
      severity: 'page', condition: { kind: 'burnrate', op: 'gt', threshold: 14.4, lookbackWindow: '1h', alertAfter: '0m' },
    });
    expect(page.spec.conditions[0].metadata.annotations['tracklane/short-window']).toBe('5m');
  });
});

const BASE = `apiVersion: tracklane/v1
kind: Topology
metadata: { name: shapes, version: 1 }
spec:
  sources:
    - { name: web, topic: raw.shapes, format: json-schema, subject: raw.shapes-value, eventTime: { field: ts }, idempotencyKey: id }
  outputs:
    enriched: { topic: enriched.shapes }
    deadLetter: { topic: dlq.shapes }
    metrics: { topic: metrics.shapes }
    alerts: { topic: alerts.shapes, format: json }
`;

describe('OpenSLO round trip of shapes the examples lack', () => {
  it('a 7d period (scaled windows below a minute), explicit tiers, no tiers, a latency SLI without filter, minEvents', () => {
    const text = BASE + `  slis:
    - name: ok
      ratio: { good: "status == 'ok'" }
    - name: fast
      latency: { field: took_ms, threshold: 250 }
      groupBy: [region, host]
    - name: unused
      ratio: { good: "true" }
  slos:
    - { name: weekly, sli: ok, objective: 0.995, period: 7d, minEvents: 3 }
    - name: custom
      sli: fast
      objective: 0.9
      period: 1d1h
      alerting:
        runbook: https://runbooks.example/fast
        tiers:
          - { name: quick, severity: page, long: 30m, short: 90s, threshold: 8 }
          - { severity: ticket, long: 6h, short: 1h, budgetFraction: 0.2 }
    - { name: quiet, sli: ok, objective: 0.9, alerting: { tiers: none } }
`;
    const file = path.join(TOPOLOGIES, 'shapes.yaml');
    const before = loadTopologyText(text, file);
    const exported = exportOpenSlo(before);
    expect(exported.notes).toEqual(['SLI unused: no SLO uses it; OpenSLO has no SLI without an objective, left out']);
    const { after, notes } = roundTrip(text, file);
    expect(notes).toEqual([]);
    expect(after.slos).toEqual(before.slos);
    expect(after.slis).toEqual(used(before));
    // 7d google-sre: the 5m short window scales to 70s, which the shorthand cannot say.
    const weekly = parseAllDocuments(exported.yaml).map((d) => d.toJS()).find((d) => d.metadata.name === 'weekly-1h-5m');
    expect(weekly.spec.conditions[0].metadata.annotations['tracklane/short-window']).toBe('1m10s');
  });
});

describe('OpenSLO import says what it could not map', () => {
  const foreign = `apiVersion: openslo/v1
kind: DataSource
metadata: { name: events }
spec: { type: tracklane, connectionDetails: {} }
---
apiVersion: openslo/v1
kind: SLI
metadata: { name: errors }
spec:
  ratioMetric:
    counter: true
    bad: { metricSource: { metricSourceRef: events, spec: { query: "status == 'error'" } } }
    total: { metricSource: { metricSourceRef: events, spec: { query: "true" } } }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: api-availability }
spec:
  service: api
  indicatorRef: errors
  budgetingMethod: Occurrences
  timeWindow: [ { duration: 4w, isRolling: true } ]
  objectives: [ { targetPercent: 99.5 } ]
  alertPolicies: [ fast-burn ]
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata: { name: fast-burn }
spec:
  alertWhenBreaching: true
  conditions: [ { conditionRef: fast-burn-condition } ]
  notificationTargets: [ { targetRef: oncall } ]
---
apiVersion: openslo/v1
kind: AlertCondition
metadata: { name: fast-burn-condition }
spec:
  severity: page
  condition: { kind: burnrate, op: gte, threshold: 10, lookbackWindow: 2h, alertAfter: 5m }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: prom-latency }
spec:
  service: api
  indicator:
    metadata: { name: prom-latency-sli }
    spec:
      thresholdMetric: { metricSource: { type: Prometheus, spec: { query: "histogram_quantile(0.99, rate(x[5m]))" } } }
  budgetingMethod: Occurrences
  timeWindow: [ { duration: 28d, isRolling: true } ]
  objectives: [ { op: lte, value: 0.3, target: 0.99 } ]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: sliced }
spec:
  service: api
  indicatorRef: errors
  budgetingMethod: Timeslices
  objectives: [ { target: 0.99, timeSliceTarget: 0.9, timeSliceWindow: 1m } ]
---
apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata: { name: oncall }
spec: { target: slack }
---
apiVersion: openslo/v1alpha
kind: SLO
metadata: { name: old }
spec: {}
`;

  it('imports what maps (a DataSource ref, bad/total, targetPercent, 4w, a conditionRef) and names the rest per document', () => {
    const r = importOpenSlo(foreign);
    expect(r.slis).toEqual([{ name: 'errors', ratio: { good: "!(status == 'error')", total: 'true' } }]);
    expect(r.slos).toEqual([{
      name: 'api-availability', sli: 'errors', objective: 0.995, period: '28d',
      alerting: { tiers: [{ name: 'fast-burn', severity: 'page', long: '2h', short: '10m', threshold: 10 }] },
    }]);
    const by = (doc: string) => r.notes.filter((n) => n.doc === doc).map((n) => n.message).join(' | ');
    expect(by('SLI errors bad')).toBe('');
    expect(by('SLI errors')).toMatch(/bad "status == 'error'" imported as good "!\(status == 'error'\)"/);
    expect(by('AlertPolicy fast-burn')).toMatch(/op gte.*imported as gt/);
    expect(by('AlertPolicy fast-burn')).toMatch(/no tracklane\/short-window: short window set to 10m/);
    expect(by('AlertPolicy fast-burn')).toMatch(/alertAfter 5m is not mapped/);
    expect(by('SLI prom-latency-sli')).toMatch(/metricSource type Prometheus is not tracklane/);
    expect(by('SLO prom-latency')).toMatch(/could not be imported/);
    expect(by('SLO sliced')).toMatch(/budgetingMethod Timeslices/);
    expect(by('AlertNotificationTarget oncall')).toMatch(/not mapped/);
    expect(by('SLO old')).toMatch(/apiVersion openslo\/v1alpha/);
    // The YAML is the topology's slis:/slos: and loads as part of one.
    const t = loadTopologyText(BASE + r.yaml.replace(/^/gm, '  '), path.join(TOPOLOGIES, 'imported.yaml'));
    expect(t.slos[0]).toMatchObject({ name: 'api-availability', objective: 0.995, periodMs: 28 * 86_400_000 });
    expect(t.slos[0].tiers).toEqual([{ name: 'fast-burn', severity: 'page', longWindowMs: 7_200_000, shortWindowMs: 600_000, threshold: 10 }]);
  });
});

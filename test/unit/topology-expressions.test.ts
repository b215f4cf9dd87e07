import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { UserError } from '../../src/errors';
import { registerCheck } from '../../src/cli/check';
import { topicsOf } from '../../src/cli/init';
import { avroVariables } from '../../src/expr/schema-types';
import { assertExpressionsTypeCheck, expressionNotes, expressionRefs } from '../../src/topology/expressions';
import { loadTopology, loadTopologyText } from '../../src/topology/load';

const ROOT = path.resolve(__dirname, '../..');
const SCHEMA = path.join(ROOT, 'schemas/checkout-event.avsc');

function topology(opts: { schema?: boolean; slis?: string; outputs?: string } = {}): string {
  return `apiVersion: tracklane/v1
kind: Topology
metadata: { name: expr, version: 1 }
spec:
  sources:
    - name: web
      topic: raw.expr
${opts.schema ? `      schema: ${SCHEMA}\n` : ''}      eventTime: { field: ts }
      idempotencyKey: event_id
  outputs:
    enriched: { topic: enriched.expr }
    deadLetter: { topic: dlq.expr }
${opts.outputs ?? '    metrics: { topic: slo.metrics }\n    alerts: { topic: slo.alerts }\n'}${opts.slis ?? ''}`;
}

const typoSli = `  slis:
    - name: checkout-success
      ratio: { good: "stauts == 'ok'", total: "type == 'checkout'" }
`;

function details(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as UserError).details;
  }
  throw new Error('expected a UserError');
}

describe('CEL expressions against the reader schema', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-expr-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('load (and so check) reports a field typo with file:line:col when the source names a schema file', () => {
    expect(details(() => loadTopologyText(topology({ schema: true, slis: typoSli }), 'x.yaml'))).toEqual([
      'x.yaml:18:23 spec.slis[0].ratio.good: CEL: field "stauts" is not in the schema of source "web" (' + SCHEMA + ')',
    ]);
  });

  it('without a schema file the typo loads, and check says the expressions were not type-checked', async () => {
    const file = path.join(dir, 't.yaml');
    fs.writeFileSync(file, topology({ slis: typoSli }));
    const t = loadTopology(file);
    expect(expressionRefs(t).map((r) => r.name)).toEqual(['checkout-success.good', 'checkout-success.total']);
    expect(expressionNotes(t)).toEqual([expect.stringMatching(/^note: source "web" names no schema file, so CEL expressions were not type-checked/)]);

    const out: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    try {
      const program = new Command('tracklane').exitOverride();
      registerCheck(program);
      process.exitCode = undefined;
      await program.parseAsync(['node', 'tracklane', 'check', '-t', file]);
      expect(Number(process.exitCode ?? 0)).toBe(0);
    } finally {
      jest.restoreAllMocks();
      process.exitCode = undefined;
    }
    expect(out.join('')).toMatch(/^note: source "web" names no schema file.*\nok: expr v1: 1 sources, 0 steps, 1 SLIs, 0 SLOs\n$/);
  });

  it('the engine start-up check points into the topology file', () => {
    const file = path.join(dir, 't.yaml');
    fs.writeFileSync(file, topology({ slis: typoSli }));
    const t = loadTopology(file);
    const reader = avroVariables(JSON.parse(fs.readFileSync(SCHEMA, 'utf8')), 'source "web" (raw.expr-value v1)');
    expect(details(() => assertExpressionsTypeCheck(t, [reader]))).toEqual([
      `${file}:17:23 spec.slis[0].ratio.good: CEL: field "stauts" is not in the schema of source "web" (raw.expr-value v1)`,
    ]);
    const fixed = path.join(dir, 'fixed.yaml');
    fs.writeFileSync(fixed, topology({ slis: typoSli.replace('stauts', 'status') }));
    expect(() => assertExpressionsTypeCheck(loadTopology(fixed), [reader])).not.toThrow();
  });
});

describe('metrics and alerts outputs', () => {
  it('are optional for a pure enrichment topology (no SLIs, no SLOs)', () => {
    const t = loadTopologyText(topology({ outputs: '' }), 'x.yaml');
    expect(t.outputs.metrics).toBeUndefined();
    expect(t.outputs.alerts).toBeUndefined();
    expect(t.outputs.enriched.topic).toBe('enriched.expr');
    // `init` creates only the topics the topology has.
    expect(topicsOf(t).map((c) => c.topic)).toEqual(['raw.expr', 'enriched.expr', 'dlq.expr']);
  });

  it('are required once SLIs exist, with a message that says why', () => {
    const slis = `  slis:
    - name: success
      ratio: { good: "status == 'ok'" }
`;
    expect(details(() => loadTopologyText(topology({ outputs: '', slis }), 'x.yaml'))).toEqual([
      'x.yaml:10:3 spec.outputs.metrics: required when the topology has SLIs: each closed SLI window is published there',
      'x.yaml:10:3 spec.outputs.alerts: required when the topology has SLIs: SLO alert transitions are published there',
    ]);
    expect(() => loadTopologyText(topology({ slis }), 'x.yaml')).not.toThrow();
  });
});

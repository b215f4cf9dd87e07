import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

// `tracklane slo export | import` through the built CLI (npm test builds dist/ first).

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/tracklane.js');
const run = async (args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

describe('tracklane slo export / import', () => {
  it('exports checkout.yaml as OpenSLO and imports it back to the slis:/slos: of the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-openslo-'));
    const file = path.join(dir, 'checkout.openslo.yaml');
    const exported = await run(['slo', 'export', '-t', path.join(ROOT, 'topologies/checkout.yaml'), '--format', 'openslo']);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^apiVersion: openslo\/v1\nkind: SLI\n/);
    fs.writeFileSync(file, exported.stdout);
    const imported = await run(['slo', 'import', file]);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toBe('');
    const original = parse(fs.readFileSync(path.join(ROOT, 'topologies/checkout.yaml'), 'utf8')).spec;
    const back = parse(imported.stdout);
    expect(back.slos.map((s: { name: string; objective: number }) => [s.name, s.objective])).toEqual(original.slos.map((s: { name: string; objective: number }) => [s.name, s.objective]));
    expect(back.slis.map((s: { name: string }) => s.name)).toEqual(original.slis.map((s: { name: string }) => s.name));
  });

  it('says per document what it could not map, and exits 1 when no SLO maps', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-openslo-'));
    const file = path.join(dir, 'prom.yaml');
    fs.writeFileSync(file, `apiVersion: openslo/v1
kind: SLO
metadata: { name: prom }
spec:
  service: api
  indicator:
    metadata: { name: prom-sli }
    spec: { ratioMetric: { counter: true, good: { metricSource: { type: Prometheus, spec: { query: up } } }, total: { metricSource: { type: Prometheus, spec: { query: up } } } } }
  budgetingMethod: Occurrences
  objectives: [ { target: 0.99 } ]
`);
    const r = await run(['slo', 'import', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}: SLI prom-sli total: metricSource type Prometheus is not tracklane`);
    expect(r.stderr).toContain(`${file}: SLO prom: its SLI prom-sli could not be imported`);
  });
});

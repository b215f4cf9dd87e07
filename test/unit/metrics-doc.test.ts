import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMetrics } from '../../src/observability/metrics';

// docs/metrics.md lists every tracklane_* metric with its type and labels; this keeps it in
// step with what an engine's registry (createMetrics, which also registers the process-level
// tracklane_client_retries_total) really exports.

const GROUP_BY = ['region', 'plan'];

function documented(): Map<string, { type: string; labels: string[] }> {
  const doc = readFileSync(join(__dirname, '../../docs/metrics.md'), 'utf8');
  const rows = new Map<string, { type: string; labels: string[] }>();
  for (const line of doc.split('\n')) {
    const m = /^\| `(tracklane_[a-z0-9_]+)` \| (\w+) \|([^|]*)\| [^|]+ \|$/.exec(line);
    if (!m) continue;
    const labels = [...m[3].matchAll(/`([a-z_]+)`/g)].map((x) => x[1]);
    if (m[3].includes('groupBy labels')) labels.push(...GROUP_BY);
    rows.set(m[1], { type: m[2], labels });
  }
  return rows;
}

function registered(): Map<string, { type: string; labels: string[] }> {
  const { registry } = createMetrics('doc-test', GROUP_BY);
  const out = new Map<string, { type: string; labels: string[] }>();
  for (const metric of registry.getMetricsAsArray()) {
    const m = metric as unknown as { name: string; type: string; labelNames: string[] };
    if (m.name.startsWith('tracklane_')) out.set(m.name, { type: m.type, labels: [...m.labelNames] });
  }
  return out;
}

test('docs/metrics.md lists exactly the registered tracklane_* metrics, with their types and labels', () => {
  const doc = documented();
  const reg = registered();
  expect(reg.size).toBeGreaterThan(15);
  expect([...doc.keys()].sort()).toEqual([...reg.keys()].sort());
  for (const [name, r] of reg) {
    expect({ name, ...doc.get(name) }).toEqual({ name, type: r.type, labels: r.labels });
  }
});

test('every documented metric says who exports it', () => {
  const doc = readFileSync(join(__dirname, '../../docs/metrics.md'), 'utf8');
  const rows = doc.split('\n').filter((l) => l.startsWith('| `tracklane_'));
  for (const row of rows) expect(row).toMatch(/\| (every instance|partition owner|window closer|evaluator)[^|]*\|$/);
});

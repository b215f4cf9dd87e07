import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { generateRules, prometheusRules } from '../../src/slo/rules';
import { loadTopology, loadTopologyText } from '../../src/topology/load';
import { googleSreTiers, THIRTY_DAYS } from '../../src/topology/tiers';
import type { SliSpec, SloSpec } from '../../src/topology/types';

// The generated rules through the real promtool (Debian's `prometheus` package, installed by
// deploy/local/ensure-promtool.sh when missing): `check rules` on every example topology and
// on other periods, and `test rules` on synthetic counters: a region whose events all fail
// pages, whether its good series exists at 0 (engines since issue 15) or not at all (the
// `or` guard); a healthy region does not.

const ROOT = path.join(__dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-promtool-'));

beforeAll(() => {
  try {
    execFileSync('bash', [path.join(ROOT, 'deploy/local/ensure-promtool.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000 });
  } catch (err) {
    throw new Error(`these tests need promtool, and deploy/local/ensure-promtool.sh could not install it (it runs apt-get install prometheus as root): ${(err as Error).message}`);
  }
}, 900_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function promtool(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function checkRules(name: string, yaml: string): void {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, yaml);
  const r = promtool('check', 'rules', file);
  expect({ name, status: r.status, out: r.out }).toEqual({ name, status: 0, out: expect.stringContaining('SUCCESS') });
}

const topologyFiles = fs.readdirSync(path.join(ROOT, 'topologies')).filter((f) => f.endsWith('.yaml'));

test.each(topologyFiles)('promtool check rules passes on the rules of topologies/%s, both formats', (file) => {
  const topology = loadTopology(path.join(ROOT, 'topologies', file));
  expect(topology.slos.length).toBeGreaterThan(0);
  checkRules(file, generateRules(topology).yaml);
  // the PrometheusRule's spec.groups is a rule file's content
  const wrapped = parse(generateRules(topology, { format: 'prometheusrule', release: 'prom' }).yaml) as { spec: { groups: unknown } };
  checkRules(`${file}-operator`, stringify({ groups: wrapped.spec.groups }));
});

test.each(['7d', '28d'])('promtool check rules passes with %s periods (scaled tiers, widened windows at a 30s scrape)', (period) => {
  const text = fs.readFileSync(path.join(ROOT, 'topologies/checkout.yaml'), 'utf8').replace(/period: 30d/g, `period: ${period}`);
  // named beside checkout.yaml so its schema paths resolve; the file itself is never written
  const topology = loadTopologyText(text, path.join(ROOT, 'topologies', `checkout-${period}.yaml`));
  expect(topology.slos.map((s) => s.periodMs)).toEqual(topology.slos.map(() => parseInt(period, 10) * 86_400_000));
  for (const scrapeIntervalMs of [15_000, 30_000, 60_000]) checkRules(`checkout-${period}-${scrapeIntervalMs}`, generateRules(topology, { scrapeIntervalMs }).yaml);
});

describe('promtool test rules: an outage pages, a healthy region does not', () => {
  const sli: SliSpec = { name: 'checkout-success', kind: 'ratio', good: "status == 'ok'", total: 'true', groupBy: ['region'], maxSeries: 100 };
  const slo: SloSpec = { name: 'availability', sli: sli.name, objective: 0.999, periodMs: THIRTY_DAYS, minEvents: 10, tiers: googleSreTiers(THIRTY_DAYS) };
  const topology = { name: 'shop', slis: [sli], slos: [slo] };
  const series = (metric: string, region: string, values: string) => ({ series: `${metric}{topology="shop", sli="checkout-success", region="${region}"}`, values });
  const labels = (region: string, tier: string) => ({ topology: 'shop', sli: 'checkout-success', slo: 'availability', region, severity: 'page', tier });
  const annotations = (region: string, threshold: string, long: string, short: string) => ({
    summary: `availability (region=${region}): error budget burn rate above ${threshold}x over ${long} and ${short}`,
    description: 'objective 99.9% over 30d',
  });

  test('a region with zero good events pages on both page tiers, with and without a good series; the healthy one does not', () => {
    const rulesFile = path.join(dir, 'shop-rules.yaml');
    fs.writeFileSync(rulesFile, prometheusRules(topology));
    // 60 events a minute for 3 hours, scraped every minute. eu: every event fails and the
    // engine exports good at 0; ap: every event fails and there is no good series at all;
    // us: every event is good.
    const input = [
      series('tracklane_sli_events_total', 'eu', '0+60x180'),
      series('tracklane_sli_good_total', 'eu', '0+0x180'),
      series('tracklane_sli_events_total', 'ap', '0+60x180'),
      series('tracklane_sli_events_total', 'us', '0+60x180'),
      series('tracklane_sli_good_total', 'us', '0+60x180'),
    ];
    const paging = ['eu', 'ap'].flatMap((region) => [
      { exp_labels: labels(region, '1h/5m'), exp_annotations: annotations(region, '14.4', '1h', '5m') },
      { exp_labels: labels(region, '6h/30m'), exp_annotations: annotations(region, '6', '6h', '30m') },
    ]);
    const testFile = path.join(dir, 'shop-test.yaml');
    fs.writeFileSync(testFile, stringify({
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [{
        interval: '1m',
        input_series: input,
        alert_rule_test: [
          { eval_time: '70m', alertname: 'TracklaneSloBurnRatePage', exp_alerts: paging },
          { eval_time: '150m', alertname: 'TracklaneSloBurnRatePage', exp_alerts: paging },
          // events keep coming: no no-data ticket
          { eval_time: '70m', alertname: 'TracklaneSloNoData', exp_alerts: [] },
        ],
        promql_expr_test: [{
          expr: 'tracklane_slo:sli_error:ratio_rate5m{slo="availability"}',
          eval_time: '70m',
          exp_samples: ['eu', 'ap', 'us'].map((region) => ({
            labels: `tracklane_slo:sli_error:ratio_rate5m{topology="shop", sli="checkout-success", slo="availability", region="${region}", window="5m"}`,
            value: region === 'us' ? 0 : 1,
          })),
        }],
      }],
    }));
    const r = promtool('test', 'rules', testFile);
    expect({ status: r.status, out: r.out }).toEqual({ status: 0, out: expect.stringContaining('SUCCESS') });
  });

  test('the same counters without the or-guard would have hidden the region with no good series (the bug of issue 15)', () => {
    // Guard against the guard being dropped: the unguarded expression yields nothing for ap.
    const testFile = path.join(dir, 'unguarded-test.yaml');
    const rulesFile = path.join(dir, 'empty-rules.yaml');
    fs.writeFileSync(rulesFile, 'groups: []\n');
    const sel = '{topology="shop", sli="checkout-success"}';
    fs.writeFileSync(testFile, stringify({
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [{
        interval: '1m',
        input_series: [series('tracklane_sli_events_total', 'ap', '0+60x60')],
        promql_expr_test: [{
          expr: `sum by (region) (rate(tracklane_sli_events_total${sel}[5m])) - sum by (region) (rate(tracklane_sli_good_total${sel}[5m]))`,
          eval_time: '30m',
          exp_samples: [],
        }],
      }],
    }));
    const r = promtool('test', 'rules', testFile);
    expect({ status: r.status, out: r.out }).toEqual({ status: 0, out: expect.stringContaining('SUCCESS') });
  });
});

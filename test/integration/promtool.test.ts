import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { BucketCounts } from '../../src/slo/counts';
import { SloEvaluator } from '../../src/slo/evaluator';
import { generateRules, prometheusRules } from '../../src/slo/rules';
import { parseDuration } from '../../src/topology/duration';
import { loadTopology, loadTopologyText } from '../../src/topology/load';
import { googleSreTiers, THIRTY_DAYS } from '../../src/topology/tiers';
import type { SliSpec, SloSpec } from '../../src/topology/types';
import { labelsKey } from '../../src/window/labels';

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

describe('agreement: engine alerts and Prometheus alerts from the same stream, tier by tier', () => {
  // One synthetic stream, 6 hours at 1-minute buckets, 100 events a minute per region:
  //   eu: a burst (every event fails, minutes 120-134), then a slow burn (1% failing, minutes
  //       200-329), and an engine restart at minute 250 (its counters start over);
  //   ap: the region goes fully down at minute 60 and stays down (zero good events);
  //   us: healthy.
  // The engine side is the real SloEvaluator over the stream's buckets. The Prometheus side is
  // the generated rules run by promtool on the same stream's counters (scraped every minute,
  // rules evaluated every minute). promtool cannot print a value, so every (tier, minute) is
  // asserted to be silent and the failures it reports are the minutes a tier breached; the
  // engine's tier suppression (a slower tier does not start while a faster one of the same
  // severity fires) is applied to those, since in Prometheus that is Alertmanager's job.
  const MIN = 60_000;
  const MINUTES = 360;
  const PER_MIN = 100;
  const bad: Record<string, (m: number) => number> = {
    eu: (m) => (m >= 120 && m < 135 ? PER_MIN : m >= 200 && m < 330 ? 1 : 0),
    ap: (m) => (m >= 60 ? PER_MIN : 0),
    us: () => 0,
  };
  const RESTART = { region: 'eu', minute: 250 };
  const sli: SliSpec = { name: 'checkout-success', kind: 'ratio', good: "status == 'ok'", total: 'true', groupBy: ['region'], maxSeries: 100 };
  const slo: SloSpec = { name: 'availability', sli: sli.name, objective: 0.999, periodMs: THIRTY_DAYS, minEvents: 10, tiers: googleSreTiers(THIRTY_DAYS) };

  type Transition = { region: string; tier: string; status: 'firing' | 'resolved'; minute: number };

  function engineTransitions(): Transition[] {
    const series = Object.keys(bad).map((region) => {
      const total = Array.from({ length: MINUTES }, () => PER_MIN);
      const good = total.map((t, m) => t - bad[region](m));
      return { labels: { region }, labelsKey: labelsKey({ region }), counts: BucketCounts.fromBuckets(0, MIN, good, total) };
    });
    const evaluator = new SloEvaluator({ name: 'shop', windows: { bucketMs: MIN }, slos: [slo] });
    const result = evaluator.evaluate({ after: 0, through: MINUTES * MIN, firstBucket: 0, series: new Map([[sli.name, series]]), state: new Map(), emittedAt: 0 });
    return result.alerts
      .filter((a) => a.tier !== 'no-data')
      .map((a) => ({ region: a.labels.region, tier: a.tier, status: a.status as Transition['status'], minute: (a.status === 'firing' ? a.starts_at : a.ends_at!) / MIN }));
  }

  /** Cumulative counter samples at each minute, as promtool values; restarts where the engine did. */
  function counterValues(region: string, perMinute: (m: number) => number): string {
    const values: number[] = [];
    let acc = 0;
    for (let m = 0; m <= MINUTES; m++) {
      if (region === RESTART.region && m === RESTART.minute) acc = 0;
      values.push(acc);
      if (m < MINUTES) acc += perMinute(m);
    }
    return values.join(' ');
  }

  function prometheusBreaching(): Map<string, Set<number>> {
    const rulesFile = path.join(dir, 'agree-rules.yaml');
    const rules = prometheusRules({ name: 'shop', slis: [sli], slos: [slo] });
    fs.writeFileSync(rulesFile, rules);
    const alertRules = (parse(rules) as { groups: Array<{ rules: Array<{ alert?: string; expr: string; labels: Record<string, string> }> }> }).groups
      .flatMap((g) => g.rules)
      .filter((r) => r.alert && r.labels.tier !== 'no-data');
    const sel = (region: string, metric: string) => `${metric}{topology="shop", sli="checkout-success", region="${region}"}`;
    const input = Object.keys(bad).flatMap((region) => [
      { series: sel(region, 'tracklane_sli_events_total'), values: counterValues(region, () => PER_MIN) },
      { series: sel(region, 'tracklane_sli_good_total'), values: counterValues(region, (m) => PER_MIN - bad[region](m)) },
    ]);
    const tests = alertRules.flatMap((r) =>
      Array.from({ length: MINUTES }, (_, i) => ({
        expr: `label_replace(count by (region) (${r.expr}), "tier", "${r.labels.tier}", "", "")`,
        eval_time: `${i + 1}m`,
        exp_samples: [],
      })),
    );
    const testFile = path.join(dir, 'agree-test.yaml');
    fs.writeFileSync(testFile, stringify({ rule_files: [rulesFile], evaluation_interval: '1m', tests: [{ interval: '1m', input_series: input, promql_expr_test: tests }] }, { lineWidth: 0 }));
    const r = promtool('test', 'rules', testFile);
    const breaching = new Map<string, Set<number>>();
    // Each failure: `expr: "...", time: 2h1m,` then `got: {region="eu", tier="1h/5m"} 1E+00`.
    const failure = /time: ([0-9hms]+),\s*exp: nil\s*got: ((?:\{[^}]*\} [^\n]*\n?\s*)+)/g;
    for (const m of r.out.matchAll(failure)) {
      const minute = parseDuration(m[1]) / MIN;
      for (const g of m[2].matchAll(/\{region="(\w+)", tier="([^"]+)"\}/g)) {
        const key = `${g[1]}|${g[2]}`;
        if (!breaching.has(key)) breaching.set(key, new Set());
        breaching.get(key)!.add(minute);
      }
    }
    return breaching;
  }

  /** The engine's state machine (slo/alert-state.ts stepSeries) over per-minute breaching sets. */
  function transitionsOf(breaching: Map<string, Set<number>>): Transition[] {
    const out: Transition[] = [];
    const ordered = [...slo.tiers].sort((a, b) => a.longWindowMs - b.longWindowMs);
    for (const region of Object.keys(bad)) {
      const firing = new Set<string>();
      for (let minute = 1; minute <= MINUTES; minute++) {
        const faster = new Set<string>();
        for (const tier of ordered) {
          const breach = breaching.get(`${region}|${tier.name}`)?.has(minute) ?? false;
          if (firing.has(tier.name)) {
            if (breach) faster.add(tier.severity);
            else {
              firing.delete(tier.name);
              out.push({ region, tier: tier.name, status: 'resolved', minute });
            }
          } else if (breach && !faster.has(tier.severity)) {
            firing.add(tier.name);
            faster.add(tier.severity);
            out.push({ region, tier: tier.name, status: 'firing', minute });
          }
        }
      }
    }
    return out;
  }

  test('the same transitions, each within one evaluation interval (1 minute)', () => {
    const engine = engineTransitions();
    const prom = transitionsOf(prometheusBreaching());
    const key = (t: Transition) => `${t.region} ${t.tier} ${t.status}`;
    const rows = engine.map((e, i) => ({ transition: key(e), engine: e.minute, prometheus: prom.filter((p) => key(p) === key(e))[engine.slice(0, i).filter((x) => key(x) === key(e)).length]?.minute }));
    // The table for the report: tier, transition, engine minute, Prometheus minute.
    process.stdout.write(`agreement table\n${rows.map((r) => `${r.transition.padEnd(28)} engine ${String(r.engine).padStart(3)}  prometheus ${String(r.prometheus).padStart(3)}`).join('\n')}\n`);
    expect(engine.length).toBeGreaterThanOrEqual(6);
    expect(engine.map(key).sort()).toEqual(prom.map(key).sort());
    for (const r of rows) expect({ ...r, close: Math.abs(r.engine - (r.prometheus ?? Infinity)) <= 1 }).toEqual({ ...r, close: true });
    // what the stream is about: the region that is down pages and never resolves; us never alerts
    expect(engine.filter((t) => t.region === 'ap').map(key)).toContain('ap 1h/5m firing');
    expect(engine.filter((t) => t.region === 'ap' && t.status === 'resolved' && t.tier === '1h/5m')).toEqual([]);
    expect(engine.filter((t) => t.region === 'us')).toEqual([]);
  }, 300_000);
});

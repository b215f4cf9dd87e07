import { parse } from 'yaml';
import { generateRules, prometheusRules, type RulesOptions } from '../../src/slo/rules';
import { googleSreTiers, THIRTY_DAYS } from '../../src/topology/tiers';
import type { SliSpec, SloSpec } from '../../src/topology/types';

interface Rule { record?: string; alert?: string; expr: string; labels: Record<string, string>; annotations?: Record<string, string> }

const sli: SliSpec = { name: 'checkout-success', kind: 'ratio', good: "status == 'ok'", total: 'true', groupBy: ['region'], maxSeries: 100 };
const slo: SloSpec = {
  name: 'checkout-availability', sli: sli.name, objective: 0.999, periodMs: THIRTY_DAYS, minEvents: 10,
  runbook: 'https://runbooks.example/checkout', tiers: googleSreTiers(THIRTY_DAYS),
};

function rules(slis: SliSpec[] = [sli], slos: SloSpec[] = [slo], options: RulesOptions = {}) {
  const doc = parse(prometheusRules({ name: 'checkout', slis, slos }, options)) as { groups: Array<{ name: string; rules: Rule[] }> };
  return doc.groups;
}

test('one recording and one alerting group per SLO', () => {
  expect(rules().map((g) => g.name)).toEqual(['tracklane-checkout-checkout-availability-sli-recordings', 'tracklane-checkout-checkout-availability-alerts']);
  expect(rules([sli], [])).toEqual([]);
});

test('error ratio per tier window as a ratio of rates over the same window, by the groupBy labels', () => {
  const [rec] = rules();
  const windows = rec.rules.filter((r) => r.record?.startsWith('tracklane_slo:sli_error:ratio_rate')).map((r) => r.labels.window);
  expect(windows).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d']);
  const oneHour = rec.rules.find((r) => r.record === 'tracklane_slo:sli_error:ratio_rate1h')!;
  expect(oneHour.expr).toContain('sum by (region) (rate(tracklane_sli_events_total{topology="checkout", sli="checkout-success"}[1h]))');
  expect(oneHour.expr).toContain('sum by (region) (rate(tracklane_sli_good_total{topology="checkout", sli="checkout-success"}[1h]))');
  expect(oneHour.labels).toEqual({ topology: 'checkout', sli: 'checkout-success', slo: 'checkout-availability', window: '1h' });
});

test('the period ratio sums bad and total rates over the period (not an average of ratios); budget from it', () => {
  const [rec] = rules();
  const period = rec.rules.find((r) => r.record === 'tracklane_slo:sli_error:ratio_rate30d')!;
  expect(period.expr).toMatch(/^sum_over_time\(tracklane_slo:sli_bad:rate5m\{.*\}\[30d\]\)\n\/\nsum_over_time\(tracklane_slo:sli_events:rate5m\{.*\}\[30d\]\)$/);
  expect(period.expr).not.toContain('avg_over_time');
  const budget = rec.rules.find((r) => r.record === 'tracklane_slo:error_budget_remaining:ratio')!;
  expect(budget.expr).toBe('1 - (max without (window) (tracklane_slo:sli_error:ratio_rate30d{topology="checkout", slo="checkout-availability"}) / 0.001)');
});

test('multiwindow burn-rate alerts: long and short above threshold x budget, long window >= minEvents', () => {
  const [, alerts] = rules();
  expect(alerts.rules.map((r) => [r.alert, r.labels.severity, r.labels.tier])).toEqual([
    ['TracklaneSloBurnRatePage', 'page', '1h/5m'],
    ['TracklaneSloBurnRatePage', 'page', '6h/30m'],
    ['TracklaneSloBurnRateTicket', 'ticket', '1d/2h'],
    ['TracklaneSloBurnRateTicket', 'ticket', '3d/6h'],
    ['TracklaneSloNoData', 'ticket', 'no-data'],
  ]);
  const fast = alerts.rules[0];
  expect(fast.expr).toContain('tracklane_slo:sli_error:ratio_rate1h{topology="checkout", slo="checkout-availability"} > (14.4 * 0.001)');
  expect(fast.expr).toContain('tracklane_slo:sli_error:ratio_rate5m{topology="checkout", slo="checkout-availability"} > (14.4 * 0.001)');
  expect(fast.expr).toContain('and on(region)\n(sum by (region) (increase(tracklane_sli_events_total{topology="checkout", sli="checkout-success"}[1h])) >= 10)');
  expect(fast.annotations).toMatchObject({ runbook_url: 'https://runbooks.example/checkout' });
  expect(alerts.rules[1].expr).toContain('> (6 * 0.001)');
  expect(alerts.rules[4].expr).toBe('(sum(increase(tracklane_sli_events_total{topology="checkout", sli="checkout-success"}[1h])) or on() vector(0)) == 0');
});

test('an SLI without groupBy sums everything; scaled tiers give their own windows', () => {
  const flat: SliSpec = { ...sli, groupBy: [] };
  const week: SloSpec = { ...slo, periodMs: 7 * 86_400_000, tiers: googleSreTiers(7 * 86_400_000), runbook: undefined };
  const [rec, alerts] = rules([flat], [week], { scrapeIntervalMs: 15_000 });
  expect(rec.rules[0].expr).toContain('sum (rate(tracklane_sli_events_total');
  expect(rec.rules.map((r) => r.labels.window).filter(Boolean)).toEqual(['1m10s', '7m', '14m', '28m', '1h24m', '5h36m', '16h48m', '7d']);
  expect(alerts.rules[0].expr).toContain('and on()\n(sum (increase(');
  expect(alerts.rules[0].annotations).not.toHaveProperty('runbook_url');
});

test('windows shorter than 4 scrape intervals widen, and the output says which', () => {
  const week: SloSpec = { ...slo, periodMs: 7 * 86_400_000, tiers: googleSreTiers(7 * 86_400_000) };
  const out = generateRules({ name: 'checkout', slis: [sli], slos: [week] }, { scrapeIntervalMs: 30_000 });
  expect(out.widened).toEqual(['slo checkout-availability: tier 1h/5m short window 1m10s widened to 2m (4 scrape intervals)']);
  expect(out.yaml).toContain('# Scrape interval 30s: every rate window is at least 4 scrape intervals (2m).');
  expect(out.yaml).toContain('# slo checkout-availability: tier 1h/5m short window 1m10s widened to 2m');
  const [rec, alerts] = (parse(out.yaml) as { groups: Array<{ rules: Rule[] }> }).groups;
  expect(rec.rules.map((r) => r.labels.window).filter(Boolean)).toEqual(['2m', '7m', '14m', '28m', '1h24m', '5h36m', '16h48m', '7d']);
  expect(alerts.rules[0].expr).toContain('tracklane_slo:sli_error:ratio_rate2m');
  // 30d windows are all above 4 x 1m: nothing widens at the default scrape interval
  expect(generateRules({ name: 'checkout', slis: [sli], slos: [slo] }).widened).toEqual([]);
  // a slow scrape widens the base rate of the period ratio too
  const slow = generateRules({ name: 'checkout', slis: [sli], slos: [slo] }, { scrapeIntervalMs: 120_000 });
  expect(slow.widened).toEqual([
    'slo checkout-availability: tier 1h/5m short window 5m widened to 8m (4 scrape intervals)',
    'slo checkout-availability: base rate window 5m widened to 8m (4 scrape intervals)',
  ]);
  expect(slow.yaml).toContain('tracklane_slo:sli_bad:rate8m');
});

test('a missing good series counts as all bad: every events - good has an `or events` guard', () => {
  const [rec] = rules();
  const bad = rec.rules.filter((r) => r.expr.includes('tracklane_sli_good_total'));
  expect(bad.length).toBe(8); // 7 tier windows + the base bad rate
  for (const r of bad) {
    const w = /\[(\w+)\]\)\)/.exec(r.expr)![1];
    const events = `sum by (region) (rate(tracklane_sli_events_total{topology="checkout", sli="checkout-success"}[${w}]))`;
    const good = `sum by (region) (rate(tracklane_sli_good_total{topology="checkout", sli="checkout-success"}[${w}]))`;
    expect(r.expr).toContain(`(\n  ${events}\n  -\n  ${good}\n  or\n  ${events}\n)`);
  }
});

test('summaries name the label set; the no-data alert holds for the shortest short window', () => {
  const [, alerts] = rules();
  expect(alerts.rules[0].annotations!.summary).toBe('checkout-availability (region={{ $labels.region }}): error budget burn rate above 14.4x over 1h and 5m');
  const noData = alerts.rules.find((r) => r.alert === 'TracklaneSloNoData') as Rule & { for?: string };
  expect(noData.for).toBe('5m');
  const [, flat] = rules([{ ...sli, groupBy: [] }]);
  expect(flat.rules[0].annotations!.summary).toBe('checkout-availability: error budget burn rate above 14.4x over 1h and 5m');
});

test('--format prometheusrule wraps the same groups in a PrometheusRule with the release label', () => {
  const topology = { name: 'checkout', slis: [sli], slos: [slo] };
  const doc = parse(generateRules(topology, { format: 'prometheusrule', release: 'kube-prometheus' }).yaml);
  expect(doc).toMatchObject({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'tracklane-checkout', labels: { release: 'kube-prometheus', 'app.kubernetes.io/instance': 'checkout' } },
  });
  expect(doc.spec.groups).toEqual((parse(prometheusRules(topology)) as { groups: unknown }).groups);
  expect(parse(generateRules(topology, { format: 'prometheusrule' }).yaml).metadata.labels).not.toHaveProperty('release');
});

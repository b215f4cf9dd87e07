import { BucketCounts } from '../../src/slo/counts';
import { SloEvaluator } from '../../src/slo/evaluator';
import { googleSreTiers, THIRTY_DAYS } from '../../src/topology/tiers';
import type { SloSpec } from '../../src/topology/types';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 5);
const slo: SloSpec = { name: 'avail', sli: 'ok', objective: 0.99, periodMs: THIRTY_DAYS, minEvents: 10, tiers: googleSreTiers(THIRTY_DAYS) };
const evaluator = new SloEvaluator({ name: 'shop', windows: { bucketMs: MIN }, slos: [slo] });

function series(labels: Record<string, string>, labelsKey: string, minutes: number, badPerMinute: (m: number) => number, perMinute = 100) {
  const total = Array.from({ length: minutes }, () => perMinute);
  const good = total.map((t, m) => t - badPerMinute(m));
  return { labels, labelsKey, counts: BucketCounts.fromBuckets(T0, MIN, good, total) };
}

test('history needed: the longest of the period and the tier windows', () => {
  expect(evaluator.historyMs('ok')).toBe(THIRTY_DAYS);
  expect(evaluator.historyMs('other')).toBe(0);
});

test('each label set is evaluated on its own counts; gauges at the last boundary', () => {
  const eu = series({ region: 'eu' }, 'region=eu', 120, () => 50); // burn 50
  const us = series({ region: 'us' }, 'region=us', 120, () => 0);
  const r = evaluator.evaluate({ after: T0, through: T0 + 120 * MIN, firstBucket: T0, series: new Map([['ok', [eu, us]]]), state: new Map(), emittedAt: 1 });
  expect(r.alerts.every((a) => a.labels.region === 'eu')).toBe(true);
  expect(r.alerts.filter((a) => a.status === 'firing').map((a) => [a.tier, (a.starts_at - T0) / MIN])).toEqual([
    ['1h/5m', 1],
    ['1d/2h', 1], // 6h/30m suppressed by 1h/5m; 3d/6h by 1d/2h
  ]);
  const g = r.gauges!;
  expect(g.at).toBe(T0 + 120 * MIN);
  expect(g.budgetRemaining).toEqual([
    { slo: 'avail', labels: { region: 'eu' }, value: expect.closeTo(1 - 0.5 / 0.01, 9) }, // 50% errors vs a 1% budget
    { slo: 'avail', labels: { region: 'us' }, value: 1 },
  ]);
  expect(g.burnRate.filter((x) => x.labels.region === 'eu').map((x) => [x.window, x.value])).toEqual([
    ['5m', 50], ['30m', 50], ['1h', 50], ['2h', 50], ['6h', 50], ['1d', 50], ['3d', 50],
  ].map(([w, v]) => [w, expect.closeTo(v as number, 9)]));
  expect(g.alertFiring.filter((x) => x.labels.region === 'eu' && x.value === 1).map((x) => x.tier)).toEqual(['1h/5m', '1d/2h']);
  expect(g.alertFiring.find((x) => x.tier === 'no-data')).toMatchObject({ value: 0 });
  expect(r.state.get('avail')).toHaveProperty(['1h/5m|region=eu']);
});

test('burn-rate gauges are NaN for windows without events', () => {
  const quiet = series({}, '', 10, () => 0, 0);
  const r = evaluator.evaluate({ after: T0, through: T0 + 10 * MIN, firstBucket: T0, series: new Map([['ok', [quiet]]]), state: new Map(), emittedAt: 1 });
  expect(r.gauges!.burnRate.every((x) => Number.isNaN(x.value))).toBe(true);
  expect(r.gauges!.budgetRemaining[0].value).toBe(1);
});

test('no-data: fires once a whole shortest long window (1h) after the first bucket has no events; resolves on data', () => {
  // events for 30 minutes, silence for 2h, events again
  const s = series({}, '', 240, () => 0, 0);
  const data = (m: number) => (m < 30 || m >= 150 ? 100 : 0);
  const counts = BucketCounts.fromBuckets(T0, MIN, Array.from({ length: 240 }, (_, m) => data(m)), Array.from({ length: 240 }, (_, m) => data(m)));
  const r = evaluator.evaluate({ after: T0, through: T0 + 240 * MIN, firstBucket: T0, series: new Map([['ok', [{ ...s, counts }]]]), state: new Map(), emittedAt: 1 });
  expect(r.alerts.map((a) => [a.tier, a.status, ((a.status === 'firing' ? a.starts_at : a.ends_at!) - T0) / MIN])).toEqual([
    ['no-data', 'firing', 90], // window [30, 90) is the first hour with no events
    ['no-data', 'resolved', 151],
  ]);
});

test('no-data does not fire before the first window after the first bucket has passed', () => {
  const r = evaluator.evaluate({ after: T0, through: T0 + 30 * MIN, firstBucket: T0, series: new Map(), state: new Map(), emittedAt: 1 });
  expect(r.alerts).toEqual([]);
  const later = evaluator.evaluate({ after: T0, through: T0 + 2 * HOUR, firstBucket: T0, series: new Map(), state: new Map(), emittedAt: 1 });
  expect(later.alerts.map((a) => (a.starts_at - T0) / MIN)).toEqual([60]);
});

test('the input state is not modified', () => {
  const state = new Map([['avail', { '1h/5m|': { startsAt: T0 } }]]);
  const quiet = series({}, '', 10, () => 0);
  const r = evaluator.evaluate({ after: T0, through: T0 + 10 * MIN, firstBucket: T0, series: new Map([['ok', [quiet]]]), state, emittedAt: 1 });
  expect(r.alerts.map((a) => a.status)).toEqual(['resolved']);
  expect(state.get('avail')).toEqual({ '1h/5m|': { startsAt: T0 } });
});

import { SloAlertState } from '../../src/slo/alert-state';
import { BucketCounts } from '../../src/slo/counts';
import { SloEvaluator } from '../../src/slo/evaluator';
import type { Alert } from '../../src/slo/records';
import { googleSreTiers, THIRTY_DAYS } from '../../src/topology/tiers';
import type { SloSpec } from '../../src/topology/types';

// A 99.9% / 30d SLO with the google-sre tiers, driven minute by minute with synthetic
// 1-minute buckets of 1,000 events. Expected firing and resolving times are derived here
// from the burn-rate definition with plain loops over the generator, not from the engine.

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5); // a bucket boundary
const EVENTS_PER_MIN = 1000;
const OBJECTIVE = 0.999;
const slo: SloSpec = {
  name: 'checkout-availability', sli: 'checkout', objective: OBJECTIVE, periodMs: THIRTY_DAYS,
  minEvents: 10, runbook: 'https://runbooks.example/checkout', tiers: googleSreTiers(THIRTY_DAYS),
};
const topology = { name: 'shop', windows: { bucketMs: MIN }, slos: [slo] };

/** Errors among events [from, to) when every `every`-th event (index every-1, 2*every-1, ...) fails. */
function everyNth(from: number, to: number, every: number): number {
  return Math.floor(to / every) - Math.floor(from / every);
}

type Scenario = (minute: number) => number; // bad events in that minute

const steady = (every: number): Scenario => (m) => everyNth(m * EVENTS_PER_MIN, (m + 1) * EVENTS_PER_MIN, every);

/** Independent reference: burn rate over the `windowMin` minutes before boundary `atMin`. */
const cumulative = new WeakMap<Scenario, number[]>();
function refBurn(bad: Scenario, atMin: number, windowMin: number): { burn: number; total: number } {
  let cum = cumulative.get(bad);
  if (!cum) cumulative.set(bad, (cum = [0]));
  while (cum.length <= atMin) cum.push(cum[cum.length - 1] + bad(cum.length - 1));
  const from = Math.max(0, atMin - windowMin);
  const total = (atMin - from) * EVENTS_PER_MIN;
  return { burn: total === 0 ? 0 : (cum[atMin] - cum[from]) / total / (1 - OBJECTIVE), total };
}

/** Boundaries (in minutes) where the reference condition of a tier holds. */
function refBreaching(bad: Scenario, minutes: number, longMin: number, shortMin: number, threshold: number): boolean[] {
  const out: boolean[] = [false];
  for (let k = 1; k <= minutes; k++) {
    const l = refBurn(bad, k, longMin);
    const s = refBurn(bad, k, shortMin);
    out.push(l.total >= slo.minEvents && l.burn > threshold && s.burn > threshold);
  }
  return out;
}

/** Edges of a boolean series: [minute it became true, minute it became false | null]. */
function edges(series: boolean[]): Array<[number, number | null]> {
  const out: Array<[number, number | null]> = [];
  for (let k = 1; k < series.length; k++) {
    if (series[k] && !series[k - 1]) out.push([k, null]);
    if (!series[k] && series[k - 1]) out[out.length - 1][1] = k;
  }
  return out;
}

function history(bad: Scenario, minutes: number): BucketCounts {
  const good: number[] = [];
  const total: number[] = [];
  for (let m = 0; m < minutes; m++) {
    total.push(EVENTS_PER_MIN);
    good.push(EVENTS_PER_MIN - bad(m));
  }
  return BucketCounts.fromBuckets(T0, MIN, good, total);
}

/** Streams the evaluator one boundary at a time, as the engine does when buckets close. */
function run(bad: Scenario, minutes: number): Alert[] {
  const evaluator = new SloEvaluator(topology);
  const series = new Map([[slo.sli, [{ labels: {}, labelsKey: '', counts: history(bad, minutes) }]]]);
  let state = new Map<string, SloAlertState>();
  const alerts: Alert[] = [];
  for (let k = 1; k <= minutes; k++) {
    const r = evaluator.evaluate({ after: T0 + (k - 1) * MIN, through: T0 + k * MIN, firstBucket: T0, series, state, emittedAt: 0 });
    alerts.push(...r.alerts);
    state = r.state;
  }
  return alerts;
}

const minuteOf = (t: number) => (t - T0) / MIN;
const tier = (name: string) => slo.tiers.find((t) => t.name === name)!;
function transitions(alerts: Alert[], tierName: string): Array<[string, number]> {
  return alerts.filter((a) => a.tier === tierName).map((a) => [a.status, minuteOf(a.status === 'firing' ? a.starts_at : a.ends_at!)]);
}
function refEdges(bad: Scenario, minutes: number, name: string): Array<[string, number]> {
  const t = tier(name);
  const e = edges(refBreaching(bad, minutes, t.longWindowMs / MIN, t.shortWindowMs / MIN, t.threshold));
  return e.flatMap(([on, off]) => (off === null ? [['firing', on]] : [['firing', on], ['resolved', off]]) as Array<[string, number]>);
}

test('google-sre tiers for 30d are 14.4 / 6 / 3 / 1', () => {
  expect(slo.tiers.map((t) => [t.name, t.severity, t.longWindowMs / MIN, t.shortWindowMs / MIN, +t.threshold.toFixed(6)])).toEqual([
    ['1h/5m', 'page', 60, 5, 14.4],
    ['6h/30m', 'page', 360, 30, 6],
    ['1d/2h', 'ticket', 1440, 120, 3],
    ['3d/6h', 'ticket', 4320, 360, 1],
  ]);
});

test('a steady 0.05% error rate (every 2,000th event) never alerts', () => {
  const minutes = 24 * 60;
  const bad = steady(2000);
  // burn rate 0.5 in every window of 2000+ events: below every threshold
  for (const name of ['1h/5m', '6h/30m', '1d/2h', '3d/6h']) expect(refEdges(bad, minutes, name)).toEqual([]);
  expect(run(bad, minutes)).toEqual([]);
});

describe('a 10-minute burst of 15% errors after 6h at 0.05%', () => {
  const BURST_START = 360; // minute
  const BURST_MIN = 10;
  const minutes = BURST_START + BURST_MIN + 240;
  const bad: Scenario = (m) => (m >= BURST_START && m < BURST_START + BURST_MIN ? 150 : steady(2000)(m));
  const alerts = run(bad, minutes);

  test('the reference says: 1h/5m fires 6 min into the burst, clears 5 min after it', () => {
    // Long (60 min) window after k burst minutes: bad = 150k + ~0.5(60-k) > 14.4 * 0.001 * 60,000 = 864
    // <=> k > 5.6, so minute 6; the short (5 min) window is all burst from k = 5 on (burn 150).
    // After the burst the 5-minute window still holds a burst minute until 5 minutes later.
    expect(refEdges(bad, minutes, '1h/5m')).toEqual([['firing', BURST_START + 6], ['resolved', BURST_START + BURST_MIN + 5]]);
    expect(refEdges(bad, minutes, '6h/30m')).toEqual([]);
  });

  test('the engine pages on 1h/5m during the burst and resolves ~5 min after it', () => {
    expect(transitions(alerts, '1h/5m')).toEqual(refEdges(bad, minutes, '1h/5m'));
    const [firing, resolved] = alerts.filter((a) => a.tier === '1h/5m');
    expect(firing).toMatchObject({ status: 'firing', severity: 'page', slo: slo.name, sli: 'checkout', topology: 'shop', ends_at: null, threshold: 14.4 });
    expect(firing.burn_rate_long!).toBeGreaterThan(14.4);
    expect(firing.burn_rate_short!).toBeCloseTo(150, 6);
    expect(resolved).toMatchObject({ status: 'resolved', dedup_key: firing.dedup_key, starts_at: firing.starts_at });
    expect(minuteOf(resolved.ends_at!)).toBe(BURST_START + BURST_MIN + 5);
  });

  test('the 6h/30m page never fires', () => {
    expect(transitions(alerts, '6h/30m')).toEqual([]);
  });

  test('ticket tiers follow the same arithmetic (1d/2h over the 6h of history it has)', () => {
    // Only 6h of history: the 1d window holds ~370 minutes, so the burst alone lifts it over 3.
    expect(transitions(alerts, '1d/2h')).toEqual(refEdges(bad, minutes, '1d/2h'));
    // 3d/6h (threshold 1) breaches first, while no faster ticket fires, so it is not
    // suppressed; a faster tier starting later does not resolve it.
    const slow = refEdges(bad, minutes, '3d/6h');
    expect(slow[0][1]).toBeLessThan(refEdges(bad, minutes, '1d/2h')[0][1]);
    expect(transitions(alerts, '3d/6h')).toEqual(slow);
  });

  test('every transition is reported once: firing and resolved alternate per dedup key', () => {
    const byKey = new Map<string, string[]>();
    for (const a of alerts) byKey.set(a.dedup_key, [...(byKey.get(a.dedup_key) ?? []), a.status]);
    for (const statuses of byKey.values()) statuses.forEach((s, i) => expect(s).toBe(i % 2 === 0 ? 'firing' : 'resolved'));
  });

  test('evaluating all boundaries at once gives the same alerts as minute by minute', () => {
    const evaluator = new SloEvaluator(topology);
    const series = new Map([[slo.sli, [{ labels: {}, labelsKey: '', counts: history(bad, minutes) }]]]);
    const once = evaluator.evaluate({ after: T0, through: T0 + minutes * MIN, firstBucket: T0, series, state: new Map(), emittedAt: 0 });
    expect(once.alerts).toEqual(alerts);
  });
});

test('a steady 0.5% error rate over 3 days opens a ticket and never pages', () => {
  const minutes = 3 * 24 * 60;
  const bad = steady(200); // 5 errors per 1,000: burn rate 5
  const alerts = run(bad, minutes);
  // burn 5: above the ticket thresholds (3 and 1), below the page thresholds (14.4 and 6)
  expect(refEdges(bad, minutes, '1h/5m')).toEqual([]);
  expect(refEdges(bad, minutes, '6h/30m')).toEqual([]);
  expect(refEdges(bad, minutes, '1d/2h')).toEqual([['firing', 1]]);
  expect(alerts.filter((a) => a.severity === 'page')).toEqual([]);
  expect(transitions(alerts, '1d/2h')).toEqual([['firing', 1]]);
  // 3d/6h breaches too but the faster ticket tier already fires: suppressed, no record.
  expect(refEdges(bad, minutes, '3d/6h')).toEqual([['firing', 1]]);
  expect(transitions(alerts, '3d/6h')).toEqual([]);
  expect(alerts).toHaveLength(1);
  expect(alerts[0]).toMatchObject({ severity: 'ticket', tier: '1d/2h', status: 'firing' });
  expect(alerts[0].burn_rate_long).toBeCloseTo(5, 9);
});

import { NO_DATA_TIER, dedupKey, stateField, stepNoData, stepSeries, type SloAlertState } from '../../src/slo/alert-state';
import type { TierReading } from '../../src/slo/burn-rate';
import { googleSreTiers, THIRTY_DAYS } from '../../src/topology/tiers';
import type { SloSpec } from '../../src/topology/types';

const tiers = googleSreTiers(THIRTY_DAYS);
const slo: SloSpec = { name: 'avail', sli: 'ok', objective: 0.999, periodMs: THIRTY_DAYS, minEvents: 10, runbook: 'https://rb.example/avail', tiers };
const ctx = (at: number) => ({ topology: 'shop', slo, at, emittedAt: 42 });

/** Readings where the named tiers breach (burn 20) and the others do not (burn 0.5). */
function readings(breaching: string[]): TierReading[] {
  return tiers.map((tier) => {
    const b = breaching.includes(tier.name);
    return { tier, burnLong: b ? 20 : 0.5, burnShort: b ? 20 : 0.5, eventsLong: 1000, breaching: b };
  });
}

function step(state: SloAlertState, at: number, breaching: string[], labels: Record<string, string> = { region: 'eu' }) {
  return stepSeries(state, { labels, labelsKey: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join('&'), tiers: readings(breaching), budgetRemaining: 0.75 }, ctx(at));
}

test('fires once, stays silent while it holds, resolves once', () => {
  const state: SloAlertState = {};
  const a = step(state, 100, ['1h/5m']);
  expect(a.alerts).toHaveLength(1);
  expect(a.alerts[0]).toEqual({
    dedup_key: 'shop/avail/1h/5m/region=eu',
    status: 'firing',
    severity: 'page',
    tier: '1h/5m',
    topology: 'shop',
    slo: 'avail',
    sli: 'ok',
    labels: { region: 'eu' },
    objective: 0.999,
    period: THIRTY_DAYS,
    burn_rate_long: 20,
    burn_rate_short: 20,
    threshold: tiers[0].threshold,
    error_budget_remaining: 0.75,
    starts_at: 100,
    ends_at: null,
    summary: expect.stringContaining('avail {region=eu}: error budget burning 20.0x over 1h and 20.0x over 5m'),
    runbook_url: 'https://rb.example/avail',
    emitted_at: 42,
  });
  expect(a.firing.get('1h/5m')).toBe(true);
  expect(step(state, 200, ['1h/5m']).alerts).toEqual([]);
  const r = step(state, 300, []);
  expect(r.alerts).toEqual([expect.objectContaining({ status: 'resolved', starts_at: 100, ends_at: 300, dedup_key: a.alerts[0].dedup_key })]);
  expect(state).toEqual({});
  expect(step(state, 400, []).alerts).toEqual([]);
});

test('a slower tier of the same severity does not start firing while a faster one fires', () => {
  const state: SloAlertState = {};
  const a = step(state, 100, ['1h/5m', '6h/30m', '1d/2h']);
  expect(a.alerts.map((x) => x.tier)).toEqual(['1h/5m', '1d/2h']); // 6h/30m suppressed, ticket not
  expect(a.firing.get('6h/30m')).toBe(false);
  // the faster page clears while the slower still breaches: now the slower one fires
  const b = step(state, 200, ['6h/30m', '1d/2h']);
  expect(b.alerts.map((x) => [x.tier, x.status])).toEqual([['1h/5m', 'resolved'], ['6h/30m', 'firing']]);
});

test('an already firing slower tier keeps firing when a faster one starts (never resolved early)', () => {
  const state: SloAlertState = {};
  expect(step(state, 100, ['6h/30m']).alerts.map((x) => x.tier)).toEqual(['6h/30m']);
  const b = step(state, 200, ['1h/5m', '6h/30m']);
  expect(b.alerts.map((x) => [x.tier, x.status])).toEqual([['1h/5m', 'firing']]);
  expect(b.firing.get('6h/30m')).toBe(true);
});

test('label sets have independent state', () => {
  const state: SloAlertState = {};
  step(state, 100, ['1h/5m'], { region: 'eu' });
  expect(step(state, 100, ['1h/5m'], { region: 'us' }).alerts).toHaveLength(1);
  expect(Object.keys(state).sort()).toEqual([stateField('1h/5m', 'region=eu'), stateField('1h/5m', 'region=us')]);
});

test('no-data fires and resolves once, as a ticket without burn rates', () => {
  const state: SloAlertState = {};
  const c = { ...ctx(500), budgetRemaining: 1 };
  const fired = stepNoData(state, true, 3_600_000, c)!;
  expect(fired).toMatchObject({ status: 'firing', tier: NO_DATA_TIER, severity: 'ticket', labels: {}, burn_rate_long: null, threshold: null, starts_at: 500, dedup_key: 'shop/avail/no-data' });
  expect(fired.summary).toBe('avail: no events for SLI ok in the last 1h of event time');
  expect(stepNoData(state, true, 3_600_000, c)).toBeNull();
  expect(stepNoData(state, false, 3_600_000, { ...c, at: 900 })).toMatchObject({ status: 'resolved', starts_at: 500, ends_at: 900 });
  expect(stepNoData(state, false, 3_600_000, c)).toBeNull();
});

test('dedup keys are stable, readable joins', () => {
  expect(dedupKey('shop', 'avail', '1h/5m', '')).toBe('shop/avail/1h/5m');
  expect(dedupKey('shop', 'avail', '1h/5m', 'region=eu')).toBe('shop/avail/1h/5m/region=eu');
});

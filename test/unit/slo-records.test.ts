import { alertSchema, alertType, sliWindowKey, sliWindowSchema, sliWindowType, type Alert, type SliWindow } from '../../src/slo/records';

const window: SliWindow = {
  topology: 'shop', sli: 'latency', labels: { region: 'eu' }, window_start: 1_767_571_200_000, window_end: 1_767_571_260_000,
  good: 990, total: 1000, ratio: 0.99, latency: { count: 1000, p50: 120.5, p95: 280, p99: 310, max: 1234.5 }, late_events: 3, emitted_at: 1_767_571_400_000,
};
const alert: Alert = {
  dedup_key: 'shop/avail/1h/5m/region=eu', status: 'firing', severity: 'page', tier: '1h/5m', topology: 'shop', slo: 'avail', sli: 'ok',
  labels: { region: 'eu' }, objective: 0.999, period: 2_592_000_000, burn_rate_long: 25.4, burn_rate_short: 150, threshold: 14.4,
  error_budget_remaining: 0.97, starts_at: 1_767_571_200_000, ends_at: null, summary: 's', runbook_url: null, emitted_at: 1_767_571_200_500,
};

test('Avro names and namespace', () => {
  expect(sliWindowType.name).toBe('tracklane.SliWindow');
  expect(alertType.name).toBe('tracklane.Alert');
});

test('the fields are those of DESIGN.md section 6', () => {
  const names = (s: unknown) => (s as { fields: Array<{ name: string }> }).fields.map((f) => f.name);
  expect(names(sliWindowSchema)).toEqual(['topology', 'sli', 'labels', 'window_start', 'window_end', 'good', 'total', 'ratio', 'latency', 'late_events', 'emitted_at']);
  expect(names(alertSchema)).toEqual([
    'dedup_key', 'status', 'severity', 'tier', 'topology', 'slo', 'sli', 'labels', 'objective', 'period', 'burn_rate_long', 'burn_rate_short',
    'threshold', 'error_budget_remaining', 'starts_at', 'ends_at', 'summary', 'runbook_url', 'emitted_at',
  ]);
});

test('records round-trip, nullable fields included', () => {
  expect(sliWindowType.fromBuffer(sliWindowType.toBuffer(window))).toEqual(window);
  const empty = { ...window, good: 0, total: 0, ratio: null, latency: null };
  expect(sliWindowType.fromBuffer(sliWindowType.toBuffer(empty))).toEqual(empty);
  expect(alertType.fromBuffer(alertType.toBuffer(alert))).toEqual(alert);
  const noData = { ...alert, status: 'resolved' as const, tier: 'no-data', severity: 'ticket' as const, burn_rate_long: null, burn_rate_short: null, threshold: null, ends_at: 1_767_571_500_000, runbook_url: 'https://rb' };
  expect(alertType.fromBuffer(alertType.toBuffer(noData))).toEqual(noData);
});

test('an SLI window is keyed sli|labels|window_start', () => {
  expect(sliWindowKey(window, 'region=eu')).toBe('latency|region=eu|1767571200000');
});

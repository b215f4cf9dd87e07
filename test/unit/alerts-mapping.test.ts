import { toAlertmanager } from '../../src/alerts/alertmanager';
import { FiringSet } from '../../src/alerts/firing-set';
import { toPagerDuty } from '../../src/alerts/pagerduty';
import { ReceiverError, isRetriableStatus } from '../../src/alerts/receiver-error';
import { parseTargets } from '../../src/alerts/targets';
import { UserError } from '../../src/errors';
import type { Alert } from '../../src/slo/records';

// The README's "Paging from the alerts topic" table, as code: Alert record -> Alertmanager
// postableAlert and PagerDuty Events v2 event; --to parsing; the firing set the keep-alive uses.

const T0 = Date.parse('2026-11-29T10:00:00Z');
const firing: Alert = {
  dedup_key: 'checkout/checkout-availability/1h/5m/region=eu', status: 'firing', severity: 'page', tier: '1h/5m',
  topology: 'checkout', slo: 'checkout-availability', sli: 'checkout-success', labels: { region: 'eu', severity: 'spoofed' },
  objective: 0.999, period: 2_592_000_000, burn_rate_long: 20, burn_rate_short: 30, threshold: 14.4, error_budget_remaining: 0.5,
  starts_at: T0, ends_at: null, summary: 'burning', runbook_url: 'https://runbooks.example/checkout', emitted_at: T0 + 1000,
};
const resolved: Alert = { ...firing, status: 'resolved', ends_at: T0 + 3_600_000, runbook_url: null, severity: 'ticket', burn_rate_long: null };

describe('Alertmanager mapping', () => {
  it('labels = record labels + alertname, topology, slo, sli, severity, tier (Tracklane\'s win)', () => {
    const a = toAlertmanager(firing, { now: T0 + 60_000, firingTtlMs: 240_000 });
    expect(a.labels).toEqual({ region: 'eu', alertname: 'TracklaneSloBurnRate', topology: 'checkout', slo: 'checkout-availability', sli: 'checkout-success', severity: 'page', tier: '1h/5m' });
    expect(a.annotations).toMatchObject({ summary: 'burning', runbook_url: 'https://runbooks.example/checkout', burn_rate_long: '20', threshold: '14.4', error_budget_remaining: '0.5' });
    expect(a.startsAt).toBe('2026-11-29T10:00:00.000Z');
  });

  it('a firing alert lives firingTtl past now; a resolved one ends at ends_at', () => {
    expect(toAlertmanager(firing, { now: T0 + 60_000, firingTtlMs: 240_000 }).endsAt).toBe(new Date(T0 + 300_000).toISOString());
    // Event time ahead of the clock: never an endsAt before startsAt (Alertmanager rejects it).
    expect(toAlertmanager(firing, { now: T0 - 600_000, firingTtlMs: 240_000 }).endsAt).toBe(new Date(T0 + 240_000).toISOString());
    const r = toAlertmanager(resolved, { now: T0 + 7_200_000, firingTtlMs: 240_000, generatorURL: 'http://status.example/' });
    expect(r.endsAt).toBe('2026-11-29T11:00:00.000Z');
    expect(r.annotations.runbook_url).toBeUndefined();
    expect(r.annotations.burn_rate_long).toBeUndefined();
    expect(r.generatorURL).toBe('http://status.example/');
  });
});

describe('PagerDuty Events v2 mapping', () => {
  it('trigger / critical for a firing page, with the runbook as a link', () => {
    const e = toPagerDuty(firing, 'KEY');
    expect(e).toMatchObject({ routing_key: 'KEY', event_action: 'trigger', dedup_key: firing.dedup_key, links: [{ href: 'https://runbooks.example/checkout', text: 'Runbook' }] });
    expect(e.payload).toMatchObject({ summary: 'burning', source: 'checkout', severity: 'critical', timestamp: '2026-11-29T10:00:00.000Z', component: 'checkout-availability', group: 'checkout-success', class: '1h/5m' });
    expect(e.payload!.custom_details).toMatchObject({ burn_rate_long: 20, threshold: 14.4, error_budget_remaining: 0.5, labels: firing.labels });
  });

  it('resolve / warning for a resolved ticket, no links without a runbook, summary capped at 1024', () => {
    const e = toPagerDuty({ ...resolved, summary: 'x'.repeat(2000) }, 'KEY');
    expect(e.event_action).toBe('resolve');
    expect(e.payload!.severity).toBe('warning');
    expect(e.payload!.summary).toHaveLength(1024);
    expect(e.links).toBeUndefined();
  });
});

describe('--to', () => {
  it('adds the API path to a bare URL and keeps a given one', () => {
    const targets = parseTargets('alertmanager=http://127.0.0.1:9093,pagerduty=https://events.example/custom/enqueue', { resendIntervalMs: 60_000, routingKey: 'k' });
    expect(targets.map((t) => t.name)).toEqual(['alertmanager', 'pagerduty']);
    expect(targets[0].keepAlive).toBeDefined();
    expect(targets[1].keepAlive).toBeUndefined();
  });

  it('refuses unknown receivers, duplicates, non-URLs and PagerDuty without a routing key', () => {
    const o = { resendIntervalMs: 60_000 };
    expect(() => parseTargets('slack=http://x', o)).toThrow(UserError);
    expect(() => parseTargets('alertmanager=http://a,alertmanager=http://b', o)).toThrow(/twice/);
    expect(() => parseTargets('alertmanager=not a url', o)).toThrow(/not a URL/);
    expect(() => parseTargets('pagerduty=https://events.example', o)).toThrow(/TRACKLANE_PAGERDUTY_ROUTING_KEY/);
    expect(() => parseTargets('', o)).toThrow(/no receiver/);
  });
});

describe('receiver errors', () => {
  it('retries 5xx, 408 and 429, not other 4xx', () => {
    expect([500, 502, 503, 408, 429].every(isRetriableStatus)).toBe(true);
    expect([400, 401, 403, 404, 422].some(isRetriableStatus)).toBe(false);
    expect(new ReceiverError('pagerduty', 400, 'bad', false).code).toBe('RECEIVER_REJECTED');
    expect(new ReceiverError('pagerduty', 503, 'down', true).code).toBe('RECEIVER_UNAVAILABLE');
  });
});

describe('FiringSet', () => {
  it('keeps the latest firing record per dedup_key and partition; a resolve removes it', () => {
    const s = new FiringSet();
    s.apply(0, firing);
    s.apply(1, { ...firing, dedup_key: 'b' });
    s.apply(0, { ...firing, summary: 'newer' });
    expect(s.firing([0, 1]).map((a) => [a.dedup_key, a.summary])).toEqual([['b', 'burning'], [firing.dedup_key, 'newer']]);
    s.apply(0, resolved);
    expect(s.firing([0, 1]).map((a) => a.dedup_key)).toEqual(['b']);
    s.forget(1);
    expect(s.firing([0, 1])).toEqual([]);
  });
});

import type { Alert } from '../slo/records';

// The README's "Paging from the alerts topic" table, PagerDuty column: one Alert record is
// one Events API v2 event (POST /v2/enqueue). PagerDuty deduplicates by dedup_key, so a
// trigger for an open incident adds to it and a resolve closes it.

export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger' | 'resolve';
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: 'critical' | 'error' | 'warning' | 'info';
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links?: Array<{ href: string; text: string }>;
}

/** PagerDuty caps payload.summary at 1024 characters. */
const SUMMARY_MAX = 1024;

export function toPagerDuty(a: Alert, routingKey: string): PagerDutyEvent {
  const event: PagerDutyEvent = {
    routing_key: routingKey,
    event_action: a.status === 'firing' ? 'trigger' : 'resolve',
    dedup_key: a.dedup_key,
    payload: {
      summary: a.summary.length > SUMMARY_MAX ? a.summary.slice(0, SUMMARY_MAX - 1) + '…' : a.summary,
      source: a.topology,
      severity: a.severity === 'page' ? 'critical' : 'warning',
      timestamp: new Date(a.starts_at).toISOString(),
      component: a.slo,
      group: a.sli,
      class: a.tier,
      custom_details: {
        status: a.status,
        tier: a.tier,
        labels: a.labels,
        objective: a.objective,
        burn_rate_long: a.burn_rate_long,
        burn_rate_short: a.burn_rate_short,
        threshold: a.threshold,
        error_budget_remaining: a.error_budget_remaining,
        starts_at: new Date(a.starts_at).toISOString(),
        ends_at: a.ends_at === null ? null : new Date(a.ends_at).toISOString(),
      },
    },
  };
  if (a.runbook_url) event.links = [{ href: a.runbook_url, text: 'Runbook' }];
  return event;
}

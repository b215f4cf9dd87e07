import type { Alert } from '../slo/records';

// The README's "Paging from the alerts topic" table, Alertmanager column. One Alert record
// becomes one element of the POST /api/v2/alerts body (Alertmanager's postableAlert).

export const ALERTNAME = 'TracklaneSloBurnRate';

/** Alertmanager's postableAlert (api/v2 openapi): labels are required, the rest optional. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface AlertmanagerMappingOptions {
  /** Now, epoch ms (a parameter so the mapping stays a pure function). */
  now: number;
  /**
   * How long a firing alert stays active in Alertmanager without being sent again. Alertmanager
   * resolves an alert by itself at endsAt (or after its resolve_timeout when endsAt is left out),
   * so the forwarder re-sends firing alerts well before then, as Prometheus does: endsAt is
   * set to now + 4 resend intervals.
   */
  firingTtlMs: number;
  generatorURL?: string;
}

/** Record labels first, so the Tracklane labels win over a groupBy field of the same name. */
export function alertmanagerLabels(a: Alert): Record<string, string> {
  return {
    ...a.labels,
    alertname: ALERTNAME,
    topology: a.topology,
    slo: a.slo,
    sli: a.sli,
    severity: a.severity,
    tier: a.tier,
  };
}

function annotations(a: Alert): Record<string, string> {
  const out: Record<string, string> = { summary: a.summary };
  if (a.runbook_url) out.runbook_url = a.runbook_url;
  if (a.burn_rate_long !== null) out.burn_rate_long = String(a.burn_rate_long);
  if (a.burn_rate_short !== null) out.burn_rate_short = String(a.burn_rate_short);
  if (a.threshold !== null) out.threshold = String(a.threshold);
  if (a.error_budget_remaining !== null) out.error_budget_remaining = String(a.error_budget_remaining);
  out.objective = String(a.objective);
  out.dedup_key = a.dedup_key;
  return out;
}

export function toAlertmanager(a: Alert, o: AlertmanagerMappingOptions): PostableAlert {
  const out: PostableAlert = {
    labels: alertmanagerLabels(a),
    annotations: annotations(a),
    startsAt: new Date(a.starts_at).toISOString(),
  };
  if (a.status === 'resolved') {
    out.endsAt = new Date(a.ends_at ?? o.now).toISOString();
  } else {
    // Alertmanager rejects endsAt before startsAt: an alert that starts in the future (event
    // time ahead of the clock) keeps its full time to live after its start.
    out.endsAt = new Date(Math.max(o.now, a.starts_at) + o.firingTtlMs).toISOString();
  }
  if (o.generatorURL) out.generatorURL = o.generatorURL;
  return out;
}

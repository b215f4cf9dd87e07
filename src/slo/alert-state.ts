import type { SloSpec } from '../topology/types';
import { formatDuration } from '../topology/duration';
import { describeLabels, type Labels } from '../window/labels';
import type { TierReading } from './burn-rate';
import type { Alert, Severity } from '../window/records';
import { NO_DATA_TIER } from '../topology/tiers';

// The alert state machine, pure: previous state + this boundary's readings -> next state +
// transition records. A record is produced only when a tier starts or stops firing, so a
// state that holds is never repeated. The state holds firing alerts only.
//
// Suppression: tiers of one SLO and label set are taken fastest first (shortest long window).
// A tier that breaches while a faster tier of the same severity fires does not start firing
// (it is "suppressed": no record, alert_firing 0). A slower tier that already fires keeps
// firing until its own condition clears; suppression never resolves an alert early.
//
// No-data: per SLO, over all its label sets: no events in the shortest long window of its
// tiers (and that window lies wholly after the first bucket ever counted, so a new topology
// does not start with a no-data ticket). Tier "no-data", severity ticket.

export { NO_DATA_TIER };

export interface FiringAlert {
  startsAt: number;
}

/** Firing alerts of one SLO, by stateField(tier, labelsKey). */
export type SloAlertState = Record<string, FiringAlert>;

export function stateField(tier: string, labelsKey: string): string {
  return `${tier}|${labelsKey}`;
}

export function dedupKey(topology: string, slo: string, tier: string, labelsKey: string): string {
  return [topology, slo, tier, labelsKey].filter((p) => p !== '').join('/');
}

export interface AlertContext {
  topology: string;
  slo: SloSpec;
  /** The event-time boundary being evaluated. */
  at: number;
  emittedAt: number;
  budgetRemaining: number;
}

export interface SeriesReadings {
  labels: Labels;
  labelsKey: string;
  /** Readings of the SLO's tiers, any order. */
  tiers: TierReading[];
  /** Budget remaining of this label set over the period. */
  budgetRemaining: number;
}

export interface SeriesStep {
  alerts: Alert[];
  /** Per tier name: firing after this step. */
  firing: Map<string, boolean>;
}

/** Steps one SLO + label set. Mutates `state` (the SLO's firing alerts) in place. */
export function stepSeries(state: SloAlertState, r: SeriesReadings, ctx: Omit<AlertContext, 'budgetRemaining'>): SeriesStep {
  const alerts: Alert[] = [];
  const firing = new Map<string, boolean>();
  const fasterFiring = new Set<Severity>();
  const ordered = [...r.tiers].sort((a, b) => a.tier.longWindowMs - b.tier.longWindowMs);
  for (const reading of ordered) {
    const { tier } = reading;
    const field = stateField(tier.name, r.labelsKey);
    const was = state[field];
    const c = { ...ctx, budgetRemaining: r.budgetRemaining };
    if (was) {
      if (reading.breaching) {
        fasterFiring.add(tier.severity);
        firing.set(tier.name, true);
      } else {
        delete state[field];
        alerts.push(burnAlert('resolved', reading, r.labels, r.labelsKey, was.startsAt, c));
        firing.set(tier.name, false);
      }
    } else if (reading.breaching && !fasterFiring.has(tier.severity)) {
      state[field] = { startsAt: ctx.at };
      fasterFiring.add(tier.severity);
      alerts.push(burnAlert('firing', reading, r.labels, r.labelsKey, ctx.at, c));
      firing.set(tier.name, true);
    } else {
      firing.set(tier.name, false);
    }
  }
  return { alerts, firing };
}

/** Steps the no-data alert of one SLO. `silent`: no events in the window. Mutates `state`. */
export function stepNoData(state: SloAlertState, silent: boolean, windowMs: number, ctx: AlertContext): Alert | null {
  const field = stateField(NO_DATA_TIER, '');
  const was = state[field];
  if (silent === !!was) return null;
  const base = {
    tier: NO_DATA_TIER,
    severity: 'ticket' as const,
    labels: {},
    labelsKey: '',
    burnLong: null,
    burnShort: null,
    threshold: null,
  };
  if (silent) {
    state[field] = { startsAt: ctx.at };
    return record('firing', base, ctx.at, null, `${ctx.slo.name}: no events for SLI ${ctx.slo.sli} in the last ${formatDuration(windowMs)} of event time`, ctx);
  }
  delete state[field];
  return record('resolved', base, was.startsAt, ctx.at, `${ctx.slo.name}: events for SLI ${ctx.slo.sli} again`, ctx);
}

function burnAlert(status: Alert['status'], r: TierReading, labels: Labels, labelsKey: string, startsAt: number, ctx: AlertContext): Alert {
  const where = describeLabels(labels);
  const subject = `${ctx.slo.name}${where ? ` {${where}}` : ''}`;
  const summary =
    status === 'firing'
      ? `${subject}: error budget burning ${fmt(r.burnLong)}x over ${formatDuration(r.tier.longWindowMs)} and ${fmt(r.burnShort)}x over ${formatDuration(r.tier.shortWindowMs)} (threshold ${fmt(r.tier.threshold)}x); ${pct(ctx.budgetRemaining)} of the ${formatDuration(ctx.slo.periodMs)} budget left`
      : `${subject}: burn rate back under ${fmt(r.tier.threshold)}x (${r.tier.name}); ${pct(ctx.budgetRemaining)} of the ${formatDuration(ctx.slo.periodMs)} budget left`;
  return record(
    status,
    { tier: r.tier.name, severity: r.tier.severity, labels, labelsKey, burnLong: r.burnLong, burnShort: r.burnShort, threshold: r.tier.threshold },
    startsAt,
    status === 'resolved' ? ctx.at : null,
    summary,
    ctx,
  );
}

function record(
  status: Alert['status'],
  t: { tier: string; severity: Severity; labels: Labels; labelsKey: string; burnLong: number | null; burnShort: number | null; threshold: number | null },
  startsAt: number,
  endsAt: number | null,
  summary: string,
  ctx: AlertContext,
): Alert {
  return {
    dedup_key: dedupKey(ctx.topology, ctx.slo.name, t.tier, t.labelsKey),
    status,
    severity: t.severity,
    tier: t.tier,
    topology: ctx.topology,
    slo: ctx.slo.name,
    sli: ctx.slo.sli,
    labels: { ...t.labels },
    objective: ctx.slo.objective,
    period: ctx.slo.periodMs,
    burn_rate_long: t.burnLong,
    burn_rate_short: t.burnShort,
    threshold: t.threshold,
    error_budget_remaining: ctx.budgetRemaining,
    starts_at: startsAt,
    ends_at: endsAt,
    summary,
    runbook_url: ctx.slo.runbook ?? null,
    emitted_at: ctx.emittedAt,
  };
}

function fmt(x: number | null): string {
  if (x === null) return 'n/a';
  return x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

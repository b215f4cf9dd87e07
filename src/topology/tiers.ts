import type { BurnRateTier } from './types';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const DAY = 24 * HOUR;
export const THIRTY_DAYS = 30 * DAY;

/** The pseudo-tier of the no-data alert (slo/alert-state.ts), beside the burn-rate tiers. */
export const NO_DATA_TIER = 'no-data';

/**
 * The multiwindow, multi-burn-rate tiers of the Google SRE workbook, written for a 30d
 * period: each tier spends a fixed fraction of the budget within its long window. For
 * another period we keep that fraction and scale both windows by period/30d, so the
 * threshold (fraction * period / long window) stays 14.4, 6, 3 and 1.
 */
const GOOGLE_SRE_30D: Array<{ name: string; severity: 'page' | 'ticket'; long: number; short: number; budgetFraction: number }> = [
  { name: '1h/5m', severity: 'page', long: HOUR, short: 5 * MINUTE, budgetFraction: 0.02 },
  { name: '6h/30m', severity: 'page', long: 6 * HOUR, short: 30 * MINUTE, budgetFraction: 0.05 },
  { name: '1d/2h', severity: 'ticket', long: DAY, short: 2 * HOUR, budgetFraction: 0.1 },
  { name: '3d/6h', severity: 'ticket', long: 3 * DAY, short: 6 * HOUR, budgetFraction: 0.1 },
];

export function googleSreTiers(periodMs: number): BurnRateTier[] {
  const scale = periodMs / THIRTY_DAYS;
  return GOOGLE_SRE_30D.map((t) => {
    const longWindowMs = Math.round(t.long * scale);
    return {
      name: t.name,
      severity: t.severity,
      longWindowMs,
      shortWindowMs: Math.round(t.short * scale),
      threshold: (t.budgetFraction * periodMs) / longWindowMs,
    };
  });
}

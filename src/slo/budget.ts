import type { WindowSums } from './counts';

// Error ratio, burn rate and error budget over a window, always as a ratio of sums over the
// window's buckets (never an average of per-bucket ratios, which would weigh a quiet minute
// like a busy one).

/** (total - good) / total; null when the window has no events. */
export function errorRatio(s: WindowSums): number | null {
  return s.total > 0 ? (s.total - s.good) / s.total : null;
}

/** How fast the budget burns: 1 spends exactly the budget over the period. null with no events. */
export function burnRate(s: WindowSums, objective: number): number | null {
  const ratio = errorRatio(s);
  return ratio === null ? null : ratio / (1 - objective);
}

/**
 * 1 - bad / ((1 - objective) * total) over the rolling period: 1 = untouched, 0 = spent,
 * negative = overspent. With no events in the period nothing was spent: 1.
 */
export function errorBudgetRemaining(s: WindowSums, objective: number): number {
  if (s.total <= 0) return 1;
  return 1 - (s.total - s.good) / ((1 - objective) * s.total);
}

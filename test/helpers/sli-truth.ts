// The burn-rate alert model of docs/slo.md, computed straight from per-bucket (bad, total)
// counts of the events a test produced, never from the engine's output. Shared by the SLO
// end-to-end tests and the chaos test.

export interface RefTier { name: string; severity: 'page' | 'ticket'; long: number; short: number; threshold: number }

/** google-sre for 30d, windows in buckets of one minute (docs/slo.md, "Tiers"). Fastest first. */
export const TIERS: RefTier[] = [
  { name: '1h/5m', severity: 'page', long: 60, short: 5, threshold: 14.4 },
  { name: '6h/30m', severity: 'page', long: 360, short: 30, threshold: 6 },
  { name: '1d/2h', severity: 'ticket', long: 1440, short: 120, threshold: 3 },
  { name: '3d/6h', severity: 'ticket', long: 4320, short: 360, threshold: 1 },
];

/** [tier, status, boundary in buckets after T0] */
export type Transition = [string, 'firing' | 'resolved', number];

export interface ReferenceOptions {
  objective: number;
  minEvents: number;
  tiers?: RefTier[];
  /**
   * Throw when the series is silent for the shortest long window (no-data would fire).
   * Right for an SLO's only series; a test that checks no-data over all label sets of an
   * SLO turns it off per label set.
   */
  assertNoSilence?: boolean;
}

/**
 * The expected alert transitions of one SLO series at boundaries 1..boundaries (buckets
 * after T0), straight from docs/slo.md: a tier breaches when its long and short burn rates
 * are both above its threshold and the long window holds >= minEvents; fastest tier first,
 * a tier does not start firing while a faster one of its severity fires.
 * Throws when a burn rate sits so close to a threshold that rounding could decide.
 */
export function referenceAlerts(counts: { bad: number[]; total: number[] }, boundaries: number, o: ReferenceOptions): Transition[] {
  const tiers = o.tiers ?? TIERS;
  const cumBad = [0];
  const cumTotal = [0];
  for (let m = 0; m < boundaries; m++) {
    cumBad.push(cumBad[m] + (counts.bad[m] ?? 0));
    cumTotal.push(cumTotal[m] + (counts.total[m] ?? 0));
  }
  const sum = (from: number, to: number) => {
    const a = Math.max(0, from);
    return { bad: cumBad[to] - cumBad[a], total: cumTotal[to] - cumTotal[a] };
  };
  const burn = (w: { bad: number; total: number }) => w.bad / w.total / (1 - o.objective);
  const shortestLong = Math.min(...tiers.map((t) => t.long));
  const out: Transition[] = [];
  const firing = new Set<string>();
  for (let k = 1; k <= boundaries; k++) {
    if ((o.assertNoSilence ?? true) && k >= shortestLong && sum(k - shortestLong, k).total === 0) {
      throw new Error(`the stream is silent for ${shortestLong} buckets before bucket ${k}: no-data would fire`);
    }
    const faster = new Set<string>();
    for (const t of tiers) {
      const long = sum(k - t.long, k);
      const short = sum(k - t.short, k);
      const breaching = (slack: number) =>
        long.total >= o.minEvents && short.total > 0 && burn(long) > t.threshold * (1 + slack) && burn(short) > t.threshold * (1 + slack);
      const breach = breaching(1e-9);
      if (breach !== breaching(-1e-9)) throw new Error(`${t.name} at bucket ${k}: burn rate ties the threshold; change the scenario`);
      if (firing.has(t.name)) {
        if (breach) faster.add(t.severity);
        else {
          firing.delete(t.name);
          out.push([t.name, 'resolved', k]);
        }
      } else if (breach && !faster.has(t.severity)) {
        firing.add(t.name);
        faster.add(t.severity);
        out.push([t.name, 'firing', k]);
      }
    }
  }
  return out;
}

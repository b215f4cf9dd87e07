// OpenSLO v1's duration-shorthand: one positive integer and one of m h d w M Q Y (no seconds).
// Tracklane durations are milliseconds; what the shorthand cannot say exactly is carried in a
// `tracklane/...` annotation next to it (see export.ts).

const MINUTE = 60_000;
const UNIT_MS: Record<string, number> = {
  m: MINUTE, h: 60 * MINUTE, d: 1_440 * MINUTE, w: 7 * 1_440 * MINUTE,
  // The spec leaves M, Q and Y to implementations; these are the reference Go library's.
  M: 30 * 1_440 * MINUTE, Q: 90 * 1_440 * MINUTE, Y: 365 * 1_440 * MINUTE,
};

/** The largest of d, h, m that divides the duration; rounded to whole minutes (`exact` false) when none does. */
export function toShorthand(ms: number): { text: string; exact: boolean } {
  for (const unit of ['d', 'h', 'm']) {
    if (ms % UNIT_MS[unit] === 0 && ms > 0) return { text: `${ms / UNIT_MS[unit]}${unit}`, exact: true };
  }
  return { text: `${Math.max(1, Math.round(ms / MINUTE))}m`, exact: false };
}

/** Milliseconds of a duration-shorthand, or undefined when it is not one. */
export function fromShorthand(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^([1-9]\d*)([mhdwMQY])$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : undefined;
}

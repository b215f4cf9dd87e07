// Durations in topologies are written the way Prometheus and Kubernetes users write them:
// one or more `<integer><unit>` parts, largest unit first ("30s", "5m", "1h30m", "250ms").
// Everything inside Tracklane is milliseconds.

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
const UNIT_ORDER: Unit[] = ['d', 'h', 'm', 's', 'ms'];

const PART = /(\d+)(ms|d|h|m|s)/y;

export class DurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

/** Parses "30s", "5m", "2h", "30d", "1h30m", "250ms" into milliseconds. Throws DurationError. */
export function parseDuration(text: string): number {
  const hint = 'write a duration such as 250ms, 30s, 5m, 1h30m or 30d';
  if (typeof text !== 'string' || text.length === 0) throw new DurationError(`empty duration: ${hint}`);
  if (text.length > 64) throw new DurationError(`duration is too long: ${hint}`);
  let total = 0;
  let lastUnit = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (!m) throw new DurationError(`invalid duration "${text}"${at > 0 ? ` at "${text.slice(at)}"` : ''}: ${hint}`);
    const unit = m[2] as Unit;
    const rank = UNIT_ORDER.indexOf(unit);
    if (rank <= lastUnit) throw new DurationError(`invalid duration "${text}": units must appear once, largest first (${hint})`);
    lastUnit = rank;
    total += Number(m[1]) * UNIT_MS[unit];
  }
  if (!Number.isSafeInteger(total)) throw new DurationError(`duration "${text}" is too large`);
  return total;
}

/** The shortest canonical spelling of a duration: 5400000 -> "1h30m", 0 -> "0s". */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new DurationError(`cannot format ${ms} as a duration`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of UNIT_ORDER) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return out;
}

import { DEAD_LETTER_REASONS, UserError } from '../../errors';
import type { DeadLetter } from '../../sink/dead-letter';

/** What `--reason`, `--since` and `--until` ask for. Bounds are epoch ms, since inclusive, until exclusive. */
export interface Selection {
  reason?: string;
  since?: number;
  until?: number;
  /** Which time the bounds apply to: when the event failed (default) or when it was first written. */
  time: 'failed' | 'source';
  /** Topics of the topology's sources: a dead letter from any other topic has nowhere to go. */
  sources: ReadonlySet<string>;
}

/**
 * Why a dead letter is not re-sent. `final` ones will never be re-sent by this replay group,
 * so its committed offset may move past them; the others (outside the time bounds of this
 * run) may be wanted by a later run, so the offset stops before them.
 */
export const SKIPS = {
  'other reason': { final: true },
  'outside --since/--until': { final: false },
  'source topic not in the topology': { final: true },
  'value not kept': { final: true },
  'not a dead letter': { final: true },
} as const;
export type Skip = keyof typeof SKIPS;

export function select(letter: DeadLetter | undefined, s: Selection): Skip | undefined {
  if (!letter) return 'not a dead letter';
  if (s.reason !== undefined && letter.reason !== s.reason) return 'other reason';
  const t = s.time === 'failed' ? letter.failed_at : letter.source_timestamp;
  if ((s.since !== undefined && t < s.since) || (s.until !== undefined && t >= s.until)) return 'outside --since/--until';
  if (!s.sources.has(letter.source_topic)) return 'source topic not in the topology';
  // Null when the dead letter had to leave the value out (over 1 MB), or the input had none:
  // either way there is nothing to send that could pass this time.
  if (letter.value === null) return 'value not kept';
  return undefined;
}

export function checkReason(reason: string | undefined): void {
  if (reason !== undefined && !(DEAD_LETTER_REASONS as readonly string[]).includes(reason)) {
    throw new UserError(`--reason ${reason} is not a dead-letter reason`, [`reasons: ${DEAD_LETTER_REASONS.join(', ')}`]);
  }
}

const AGO = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * `--since` / `--until`: an ISO-8601 date or time ("2024-05-01", "2024-05-01T12:00:00Z"; a
 * time without zone is UTC) or a duration meaning that long ago ("90m", "2h", "7d").
 */
export function parseTimeBound(text: string, flag: string, now: number): number {
  const t = text.trim();
  const ago = AGO.exec(t);
  if (ago) return now - Number(ago[1]) * UNIT_MS[ago[2]];
  if (ISO.test(t)) {
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(t) || !t.includes(':') ? t : `${t}Z`;
    const ms = Date.parse(zoned.replace(' ', 'T'));
    if (Number.isFinite(ms)) return ms;
  }
  throw new UserError(`${flag} ${text}: expected an ISO-8601 time (2024-05-01T12:00:00Z) or a duration ago (30m, 2h, 7d)`);
}

import { createHash } from 'node:crypto';
import { celScope, compileCel } from '../expr/cel';
import type { ExpressionErrors } from '../expr/errors';
import { isLive, type PipelineEvent, type Stage } from '../pipeline/event';
import type { SampleStep } from '../topology/types';
import { labelsKey } from '../window/labels';
import { seriesLabels } from '../window/series-cap';
import { AdaptiveRates } from './sample-rates';

// The sample step (docs/topology.md "sample"): keeps every event its `keep` rule matches and
// the rest with probability `rate`, decided from a key rather than at random, so that
// - all events of a trace or session (`by: [correlation_id]`) are kept or dropped together,
//   on every instance, and again identically when a batch is reprocessed after a crash;
// - two topologies sampling the same traces at the same rate keep the same traces (the hash
//   is not salted with the topology).
// A dropped event is marked `dropped: 'sampled'`: it is not delivered, not dead-lettered,
// and still counts for the SLIs (src/window/classify.ts), so SLOs stay exact.
// Adaptive rates (./sample-rates.ts) depend on the wall clock, so with `adaptive` a
// reprocessed batch may decide differently; fixed-rate sampling never does.

/** tracklane meta fields a `by` may name; the resolved value wins over a record field of that name. */
const META_KEYS = new Set(['correlation_id', 'session_id', 'user_id', 'anonymous_id']);

/** The key's position in [0, 1): 48 bits of its SHA-256. */
export function keyPosition(key: string): number {
  return createHash('sha256').update(key).digest().readUIntBE(0, 6) / 2 ** 48;
}

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/**
 * The value the decision hashes: the by-fields' values joined (meta first, then the record);
 * the idempotency key when there are no by-fields or none of them has a value (such events
 * are then sampled one by one).
 */
export function sampleKey(ev: PipelineEvent, by: readonly string[]): string {
  if (by.length > 0) {
    const values = by.map((f) => {
      const meta = META_KEYS.has(f) ? text((ev.meta as Record<string, unknown>)[f]) : null;
      return meta ?? text(ev.record?.[f]);
    });
    if (values.some((v) => v !== null)) return values.map((v) => v ?? '').join('\u001f');
  }
  return ev.idempotencyKey ?? `${ev.topic}|${ev.partition}|${ev.offset}`;
}

export interface SampleHooks {
  /** Where `keep` failures are counted and logged (as `sample.keep`). */
  expressionErrors?: ExpressionErrors;
  /** tracklane_sample_rate{group}; undefined: the group was forgotten. */
  onRate?: (group: string, rate: number | undefined) => void;
  now?: () => number;
  /** windows.bucket: how often adaptive rates move. */
  windowMs: number;
}

export const KEEP_EXPRESSION = 'sample.keep';
/** The `group` label of a rate that is not adaptive. */
export const ALL_GROUPS = '__all__';

export function createSampleStep(step: SampleStep, rule: string, hooks: SampleHooks): Stage {
  const keep = step.keep !== undefined ? compileCel(step.keep) : undefined;
  const now = hooks.now ?? Date.now;
  const adaptive = step.adaptive
    ? new AdaptiveRates({ ...step.adaptive, windowMs: hooks.windowMs, initialRate: step.rate }, hooks.onRate)
    : undefined;
  const groupBy = step.adaptive?.by ?? [];
  if (!adaptive) hooks.onRate?.(ALL_GROUPS, step.rate);

  /** True when the rule matches; a failing rule keeps the event: sampling must not hide what it cannot judge. */
  function matchesKeep(ev: PipelineEvent): boolean {
    if (!keep) return false;
    try {
      return keep.evaluate(celScope(ev.record!));
    } catch (err) {
      hooks.expressionErrors?.report(KEEP_EXPRESSION, err);
      return true;
    }
  }

  function rateOf(ev: PipelineEvent, nowMs: number): number {
    if (!adaptive) return step.rate;
    const group = adaptive.group(groupBy.length > 0 ? labelsKey(seriesLabels(groupBy, ev.record!)) : ALL_GROUPS);
    adaptive.observe(group);
    return adaptive.rateOf(group, nowMs);
  }

  return {
    name: 'sample',
    async process(batch) {
      const nowMs = now();
      adaptive?.tick(nowMs);
      for (const ev of batch) {
        if (!isLive(ev)) continue;
        if (matchesKeep(ev)) {
          ev.sample = { rule, decision: 'kept_rule' };
          ev.meta.sample_weight = 1;
        } else {
          const rate = rateOf(ev, nowMs);
          if (keyPosition(sampleKey(ev, step.by)) < rate) {
            ev.sample = { rule, decision: 'kept_rate' };
            ev.meta.sample_weight = 1 / rate;
          } else {
            ev.sample = { rule, decision: 'dropped' };
            ev.dropped = 'sampled';
            continue;
          }
        }
        ev.meta.steps.push('sample');
      }
    },
  };
}

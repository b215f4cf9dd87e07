import crypto from 'node:crypto';
import type { PipelineEvent, Stage } from '../pipeline/event';
import { isLive } from '../pipeline/event';
import type { CorrelationStep } from '../topology/types';
import { parseTraceparent, type TraceparentProblem } from '../decode/traceparent';

export { traceIdFromTraceparent } from '../decode/traceparent';

const MAX_CORRELATION_CHARS = 128;

/** Why a present correlation source was ignored: tracklane_correlation_invalid_total{reason}. */
export type CorrelationProblem = TraceparentProblem | 'field_too_long';
export const CORRELATION_PROBLEMS: readonly CorrelationProblem[] = ['malformed', 'unsupported_version', 'zero_trace_id', 'zero_parent_id', 'field_too_long'];

/**
 * A generated id is derived from the event's source coordinates, not random, so that
 * reprocessing the same offset after a crash yields byte-identical output.
 */
export function generatedCorrelationId(ev: PipelineEvent): string {
  return crypto.createHash('sha256').update(`${ev.topic}|${ev.partition}|${ev.offset}`).digest('hex').slice(0, 32);
}

/**
 * tracklane.correlation_id is, in order: the record's `field` (when named and a non-empty
 * string of at most 128 characters), the trace id of a valid W3C `header`, a generated id
 * (`generate: true`, then correlation_generated = true), or null. An invalid header or an
 * over-long field value is treated as absent and reported to onInvalid.
 */
export function createCorrelationStep(step: CorrelationStep, hooks: { onInvalid?: (reason: CorrelationProblem) => void } = {}): Stage {
  function fromField(ev: PipelineEvent): string | undefined {
    if (step.field === undefined) return undefined;
    const value = ev.record?.[step.field];
    if (typeof value !== 'string' || value.trim() === '') return undefined;
    if (value.length > MAX_CORRELATION_CHARS) {
      hooks.onInvalid?.('field_too_long');
      return undefined;
    }
    return value.trim();
  }
  function fromHeader(ev: PipelineEvent): string | undefined {
    const raw = ev.headers[step.header];
    if (!raw) return undefined;
    const parsed = parseTraceparent(raw.toString('latin1'));
    if (parsed.ok) return parsed.value.traceId;
    hooks.onInvalid?.(parsed.reason);
    return undefined;
  }
  return {
    name: 'correlation',
    async process(batch) {
      for (const ev of batch) {
        if (!isLive(ev)) continue;
        const found = fromField(ev) ?? fromHeader(ev);
        const generated = found === undefined && step.generate;
        ev.meta.correlation_generated = generated;
        ev.meta.correlation_id = found ?? (generated ? generatedCorrelationId(ev) : null);
        ev.meta.steps.push('correlation');
      }
    },
  };
}

import type { PipelineEvent } from '../pipeline/event';
import { countsForSlis } from '../pipeline/event';
import { parseTraceparent } from '../decode/traceparent';
import type { BuiltinMeasure, CorrelationStep } from '../topology/types';

// How each built-in pipeline SLI reads one event (docs/tracking-slis.md has the definitions).
// The result is the event's place in the SLI: left out (undefined), or counted at `eventTime`,
// good or not, with a latency value for delivery-latency.
//
// Only ingestion-errors sees events that are not live: it is about them. A dead letter is
// counted at its event time when validation got that far, else at its broker timestamp:
// DECODE_FAILED and EVENT_TIME_INVALID, the errors this SLI exists for, never have an event
// time, and leaving them out would hide them. Every other built-in, like a CEL SLI, counts the
// live events that have an event time.

export interface BuiltinPlace {
  good: boolean;
  eventTime: number;
  latencyValue?: number;
}

/** What the built-ins need to know about the pipeline besides the event. */
export interface BuiltinContext {
  /** The topology's correlation step, when it has one. */
  correlation?: CorrelationStep;
  /** delivery-latency of an event that lineage did not stamp (it always does in the engine). */
  now: () => number;
}

const DEFAULT_TRACE_HEADER = 'traceparent';

export function builtinPlace(measure: BuiltinMeasure, ev: PipelineEvent, ctx: BuiltinContext): BuiltinPlace | undefined {
  if (measure.type === 'ingestion-errors') {
    const eventTime = ev.eventTime ?? ev.timestamp;
    if (!Number.isFinite(eventTime)) return undefined;
    const bad = ev.failure !== undefined && (measure.reasons === undefined || measure.reasons.includes(ev.failure.reason));
    return { good: !bad, eventTime };
  }
  // Like CEL SLIs, built-ins count before sampling: a sampled-out event is still measured.
  if (!countsForSlis(ev) || ev.eventTime === undefined || !ev.record) return undefined;
  const eventTime = ev.eventTime;
  switch (measure.type) {
    case 'trace-completeness':
      return { good: hasValidTraceparent(ev, ctx.correlation?.header ?? DEFAULT_TRACE_HEADER), eventTime };
    case 'correlation-coverage':
      return { good: arrivedCorrelated(ev, ctx), eventTime };
    case 'delivery-latency': {
      const latencyValue = Math.max(0, (ev.meta.processed_at ?? ctx.now()) - eventTime);
      return { good: latencyValue <= measure.thresholdMs, eventTime, latencyValue };
    }
    case 'missing-context':
      return { good: measure.fields.every((anyOf) => anyOf.some((f) => present(contextValue(ev, f)))), eventTime };
  }
}

function hasValidTraceparent(ev: PipelineEvent, header: string): boolean {
  const raw = ev.headers[header];
  return raw !== undefined && parseTraceparent(raw.toString('latin1')).ok;
}

/**
 * The correlation step already decided where the id came from: an id it did not generate
 * arrived with the event (its field or a valid header). Without the step, only a valid
 * traceparent header can carry one.
 */
function arrivedCorrelated(ev: PipelineEvent, ctx: BuiltinContext): boolean {
  if (ctx.correlation && ev.meta.steps.includes('correlation')) {
    return typeof ev.meta.correlation_id === 'string' && ev.meta.correlation_generated !== true;
  }
  return hasValidTraceparent(ev, ctx.correlation?.header ?? DEFAULT_TRACE_HEADER);
}

/** A record field (dots walk nested records), else the tracklane meta field of that name (`tracklane.` optional). */
function contextValue(ev: PipelineEvent, field: string): unknown {
  let cur: unknown = ev.record;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object') {
      cur = undefined;
      break;
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  if (present(cur)) return cur;
  const metaName = field.startsWith('tracklane.') ? field.slice('tracklane.'.length) : field;
  return Object.prototype.hasOwnProperty.call(ev.meta, metaName) ? (ev.meta as Record<string, unknown>)[metaName] : undefined;
}

/** Absent, null and blank strings are missing context. */
function present(v: unknown): boolean {
  return v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');
}

import crypto from 'node:crypto';
import type { PipelineEvent, Stage } from '../pipeline/event';
import { isLive } from '../pipeline/event';
import type { CorrelationStep } from '../topology/types';

/** W3C trace context: version-traceid-parentid-flags; the trace id is the correlation id. */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const MAX_CORRELATION_CHARS = 128;

export function traceIdFromTraceparent(header: string): string | undefined {
  const match = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!match || /^0+$/.test(match[1])) return undefined;
  return match[1];
}

/**
 * A generated id is derived from the event's source coordinates, not random, so that
 * reprocessing the same offset after a crash yields byte-identical output.
 */
export function generatedCorrelationId(ev: PipelineEvent): string {
  return crypto.createHash('sha256').update(`${ev.topic}|${ev.partition}|${ev.offset}`).digest('hex').slice(0, 32);
}

export function createCorrelationStep(step: CorrelationStep): Stage {
  function fromField(ev: PipelineEvent): string | undefined {
    const value = ev.record?.[step.field];
    return typeof value === 'string' && value.trim() !== '' && value.length <= MAX_CORRELATION_CHARS ? value.trim() : undefined;
  }
  function fromHeader(ev: PipelineEvent): string | undefined {
    const raw = ev.headers[step.header];
    return raw ? traceIdFromTraceparent(raw.toString('latin1')) : undefined;
  }
  return {
    name: 'correlation',
    async process(batch) {
      for (const ev of batch) {
        if (!isLive(ev)) continue;
        const found = fromField(ev) ?? fromHeader(ev);
        ev.meta.correlation_generated = found === undefined;
        ev.meta.correlation_id = found ?? (step.generate ? generatedCorrelationId(ev) : '');
        ev.meta.steps.push('correlation');
      }
    },
  };
}

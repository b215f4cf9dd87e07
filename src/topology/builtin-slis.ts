import type { BuiltinType, SliSpec } from './types';

// The pipeline SLIs a topology declares with `builtin:` (docs/tracking-slis.md). They are
// windowed, stored and evaluated like CEL SLIs; only the classifier (src/window/builtin.ts)
// knows how each one reads an event.

export const BUILTIN_TYPES: readonly BuiltinType[] = ['correlation-coverage', 'trace-completeness', 'delivery-latency', 'ingestion-errors', 'missing-context'];

/** One line per built-in, for OpenSLO descriptions and messages. */
export const BUILTIN_DEFINITIONS: Record<BuiltinType, string> = {
  'correlation-coverage': 'live events that arrived with a valid correlation id (field or W3C traceparent header, not generated) / live events',
  'trace-completeness': 'live events that arrived with a valid W3C traceparent header / live events',
  'delivery-latency': 'processed_at - event time (ms) of live events, good when <= threshold',
  'ingestion-errors': 'consumed events not dead-lettered (or dead-lettered for a reason not listed) / consumed events',
  'missing-context': 'live events carrying every listed context field (record or tracklane meta) / live events',
};

/** How the window store keeps an SLI: counts only, or counts plus a latency sketch. */
export function sliMeasure(sli: SliSpec): 'ratio' | 'latency' {
  if (sli.kind === 'builtin') return sli.builtin.type === 'delivery-latency' ? 'latency' : 'ratio';
  return sli.kind;
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { traceIdFromTraceparent } from '../decode/traceparent';

/**
 * The W3C trace context of the work in progress (e.g. the HTTP request being served), carried
 * through awaits by AsyncLocalStorage. `track()` reads it: the trace id becomes the event's
 * correlation id and the header travels with the record, which is what Tracklane's
 * `correlation` step reads (DESIGN.md section 5).
 */
const storage = new AsyncLocalStorage<string>();

/**
 * Runs `fn` with `traceparent` as the active trace context. An absent or invalid value per
 * W3C Trace Context (upper-case hex, version ff, an all-zero id: src/enrich/traceparent.ts;
 * it usually comes from a caller's header) runs `fn` without one rather than failing.
 * Only the whitespace HTTP allows around a header value is trimmed.
 */
export function withTraceparent<T>(traceparent: string | undefined | null, fn: () => T): T {
  const normalised = typeof traceparent === 'string' ? traceparent.trim() : '';
  if (!traceIdFromTraceparent(normalised)) return storage.exit(fn);
  return storage.run(normalised, fn);
}

/** The active traceparent, if any. */
export function currentTraceparent(): string | undefined {
  return storage.getStore();
}

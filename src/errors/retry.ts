import { TracklaneError } from './index';
import type { Logger } from '../observability/logger';

// One retry helper for every dependency (Redis, Kafka, the schema registry). Only errors the
// predicate calls retriable are retried; anything else is rethrown at once. There is no
// attempt limit: an outage lasts as long as it lasts, and the caller keeps its consumer
// paused meanwhile. The caller ends the loop with the AbortSignal (shutdown, rebalance).

export const RETRY_BASE_MS = 100;
export const RETRY_CAP_MS = 10_000;

export interface RetryOptions {
  log: Pick<Logger, 'warn' | 'info'>;
  /** What is being retried, for the log line ("dedupe script", "send batch"). */
  what: string;
  /** Stops retrying: the last error is thrown (at once if aborted while waiting). */
  signal?: AbortSignal;
  /** Defaults to isRetriable: TracklaneError with retriable = true (e.g. InfrastructureError). */
  isRetriable?: (err: unknown) => boolean;
  /** Called before each wait, e.g. to count retries in a metric. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  baseMs?: number;
  capMs?: number;
}

/** Default predicate: errors that say so themselves (InfrastructureError and other retriable TracklaneErrors). */
export function isRetriable(err: unknown): boolean {
  return err instanceof TracklaneError && err.retriable;
}

/**
 * "Equal jitter" exponential backoff: half of min(cap, base * 2^attempt) fixed, half random.
 * The fixed half keeps a floor under the wait; the random half spreads instances apart.
 * attempt starts at 0.
 */
export function backoffDelay(attempt: number, baseMs = RETRY_BASE_MS, capMs = RETRY_CAP_MS, random = Math.random): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}

function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => { clearTimeout(timer); resolve(false); };
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(true); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const retriable = opts.isRetriable ?? isRetriable;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await fn();
      if (attempt > 0) opts.log.info({ what: opts.what, attempts: attempt + 1 }, 'recovered after retries');
      return result;
    } catch (err) {
      if (!retriable(err) || opts.signal?.aborted) throw err;
      const delayMs = backoffDelay(attempt, opts.baseMs, opts.capMs);
      opts.onRetry?.(err, attempt + 1, delayMs);
      opts.log.warn(
        { what: opts.what, attempt: attempt + 1, delayMs, code: err instanceof TracklaneError ? err.code : undefined, error: (err as Error)?.message },
        'retriable failure, backing off',
      );
      if (!(await sleep(delayMs, opts.signal))) throw err;
    }
  }
}

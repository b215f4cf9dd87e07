import { TracklaneError } from './index';
import { isTransient } from './transient';

// One retry helper for every dependency (Redis, Kafka, the schema registry). Only errors the
// predicate calls retriable are retried; anything else is rethrown at once. There is no
// attempt limit unless the caller sets one: an outage lasts as long as it lasts, and the
// caller keeps its consumer paused meanwhile. The caller ends the loop with the AbortSignal
// (shutdown), or with `wait` returning false (the partition was taken away).

export const RETRY_BASE_MS = 100;
export const RETRY_CAP_MS = 10_000;

/** The two pino methods used (errors/ sits below observability/, so no import of it). */
export interface RetryLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export interface RetryOptions {
  log: RetryLog;
  /** What is being retried, for the log line ("dedupe script", "send batch"). */
  what: string;
  /** The retry log line's message (default: "retriable failure, backing off"). */
  message?: string;
  /** More fields for the retry log line, from the error (e.g. which dependency failed). */
  fields?: (err: unknown) => object;
  /** Stops retrying: the last error is thrown (at once if aborted while waiting). */
  signal?: AbortSignal;
  /** Defaults to isRetriable (errors/transient.ts: marked retriable, kafkajs-retriable, Redis unreachable). */
  isRetriable?: (err: unknown) => boolean;
  /** Attempts in all, the first included; the last error is thrown after them. Unlimited by default. */
  attempts?: number;
  /** How to wait between attempts (default: a timer that the signal cuts short); false stops retrying. */
  wait?: (ms: number) => Promise<boolean>;
  /** Called before each wait, e.g. to count retries in a metric. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  baseMs?: number;
  capMs?: number;
}

/** Default predicate: see errors/transient.ts. */
export const isRetriable = isTransient;

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
      if (!retriable(err) || opts.signal?.aborted || (opts.attempts !== undefined && attempt + 1 >= opts.attempts)) throw err;
      const delayMs = backoffDelay(attempt, opts.baseMs, opts.capMs);
      opts.onRetry?.(err, attempt + 1, delayMs);
      opts.log.warn(
        { what: opts.what, ...opts.fields?.(err), attempt: attempt + 1, delayMs, name: (err as Error)?.name, code: err instanceof TracklaneError ? err.code : (err as { type?: string })?.type, error: (err as Error)?.message },
        opts.message ?? 'retriable failure, backing off',
      );
      if (!(await (opts.wait ? opts.wait(delayMs) : sleep(delayMs, opts.signal)))) throw err;
    }
  }
}

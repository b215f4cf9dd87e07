import type { TracklaneError } from '../errors';

/**
 * Sends events of type `T` (by default any object; a generated interface from
 * `tracklane sdk types` makes the compiler check them against the source schema).
 */
export interface Tracker<T extends object = object> {
  /**
   * Validates and encodes the event, then queues it; resolves once queued (waits while the
   * queue is full). Rejects with a DataError (code VALIDATION_FAILED, `path` = JSON pointer)
   * naming the field when the event does not fit the schema, and with a UserError after
   * close(). `track<CheckoutEvent>(e)` checks one call against a type the tracker was not
   * created with (the argument is not used to infer `E`, so field typos are caught).
   */
  track<E extends T = T>(event: NoInfer<E>): Promise<void>;
  /** Resolves when every event queued before the call is acknowledged by all in-sync replicas. */
  flush(): Promise<void>;
  /**
   * Stops accepting events, delivers what is queued until the deadline (`timeoutMs`, default
   * the tracker's closeTimeoutMs), disconnects, and reports. Never rejects for events it could
   * not deliver: it resolves with them (and tells onError), so a shutdown can log or keep them.
   * Idempotent: later calls return the first call's report.
   */
  close(options?: { timeoutMs?: number }): Promise<CloseReport<T>>;
}

/** What close() got out, and what it did not. */
export interface CloseReport<T extends object = object> {
  /** Events the broker acknowledged over the tracker's life. */
  delivered: number;
  /** Events track() accepted that were not acknowledged: queued at the deadline, or refused by the broker (e.g. too large). */
  undelivered: number;
  /**
   * Those events as they were to be sent (event_id, ts and correlation_id filled), oldest
   * first; written as JSON lines they can be sent again with `tracklane produce`.
   */
  events: T[];
  /** Why the last of them was not delivered; undefined when everything was. */
  error?: TracklaneError;
}

/** A tracker that keeps events in memory, for a service's tests (`mode: 'memory'`). */
export interface MemoryTracker<T extends object = object> extends Tracker<T> {
  /** Events tracked since creation or the last clear(), oldest first, with the SDK's filled fields. */
  events(): T[];
  clear(): void;
}

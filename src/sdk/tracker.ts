import { Kafka, type Message, type Producer, type RetryOptions } from 'kafkajs';
import { Registry, registryOptionsFromEnv } from '../decode/registry';
import { DataError, InfrastructureError, TracklaneError, UserError } from '../errors';
import { backoffDelay } from '../errors/retry';
import { logger } from '../observability/logger';
import { PRODUCER_OPTIONS } from '../sink/producer';
import { kafkaConfigFromEnv } from '../source/kafka';
import { loadEncoder, type EventEncoder } from './encoder';
import { createMemoryTracker } from './memory-tracker';
import { resolveKafkaOptions, type MemoryTrackerOptions, type TrackerOptions } from './options';
import { eventTraceparent, recordKey, stampEvent, type TrackEvent } from './stamp';
import type { CloseReport, MemoryTracker, Tracker } from './tracker-types';

/** kafkajs's own retries per send; after them the tracker keeps the batch and tries again. */
const SEND_RETRY: RetryOptions = { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 };
const MAX_BACKOFF_MS = 10_000;

/**
 * A tracker for one source topic. `mode: 'memory'` gives one that keeps events in memory for
 * a service's tests. `T` is the event type, e.g. an interface made by `tracklane sdk types`.
 */
export function createTracker<T extends object = object>(options: MemoryTrackerOptions): MemoryTracker<T>;
export function createTracker<T extends object = object>(options: TrackerOptions): Tracker<T>;
export function createTracker<T extends object = object>(options: TrackerOptions | MemoryTrackerOptions): Tracker<T> | MemoryTracker<T> {
  if (options?.mode === 'memory') return createMemoryTracker<T>(options);
  if (options?.mode !== undefined && options.mode !== 'kafka') throw new UserError(`createTracker: mode must be 'kafka' (the default) or 'memory', got ${JSON.stringify(options.mode)}`);
  return createKafkaTracker<T>(options);
}

/** An event on its way: the record to send, and the event as tracked (for the close report). */
interface Queued { message: Message; event: TrackEvent }

function createKafkaTracker<T extends object>(options: TrackerOptions): Tracker<T> {
  const o = resolveKafkaOptions(options);
  const log = logger.child({ stage: 'sdk', topic: o.topic });
  const onError = options.onError ?? ((err: TracklaneError) => log.warn({ code: err.code, err: err.message }, 'tracklane sdk: delivery failed'));
  const registry = new Registry({ ...registryOptionsFromEnv(), ...(options.registryUrl ? { url: options.registryUrl } : {}) });
  const kafka = new Kafka({
    ...kafkaConfigFromEnv(`tracklane-sdk-${o.topic}`),
    ...(options.brokers ? { brokers: options.brokers } : {}),
    ...options.kafka,
  });
  // Idempotent + acks=-1: kafkajs's retries never duplicate within a producer session. A batch
  // re-sent after those retries gave up may duplicate, which is why every event carries its
  // idempotency key from the start: Tracklane's dedupe step drops the copy.
  const producer: Producer = kafka.producer({ ...PRODUCER_OPTIONS, retry: SEND_RETRY });

  let encoder: Promise<EventEncoder> | undefined;
  const getEncoder = (): Promise<EventEncoder> => {
    if (!encoder) {
      encoder = loadEncoder(registry, o.subject);
      encoder.catch(() => (encoder = undefined)); // an outage must not stick
    }
    return encoder;
  };

  // Events stay in `queue` until acknowledged (or refused); `released` counts events done with
  // ever, so a flush waits for it to reach the number queued when it was called.
  const queue: Queued[] = [];
  let queued = 0;
  let released = 0;
  let acknowledged = 0;
  // Events the broker refused for good, kept (up to maxQueue) for the close report.
  const refused: TrackEvent[] = [];
  let refusedCount = 0;
  let lastError: TracklaneError | undefined;
  let lastRefusal: DataError | undefined;
  let connection: Promise<void> | undefined;
  let connected = false;
  let disconnecting: Promise<void> | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let sending = false;
  let closing = false;
  let closed = false;
  let lingerTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let closePromise: Promise<CloseReport<T>> | undefined;
  const tracksInProgress = new Set<Promise<void>>();
  const spaceWaiters: Array<() => void> = [];
  const flushWaiters: Array<{ target: number; resolve: () => void; reject: (e: Error) => void }> = [];

  async function connect(): Promise<void> {
    if (disconnecting) await disconnecting;
    if (!connection) {
      const attempt: Promise<void> = producer.connect().then(() => {
        // disconnect() gave up on this attempt while kafkajs was still retrying: let it go.
        if (connection !== attempt) { void producer.disconnect().catch(() => undefined); throw new Error('disconnected while connecting'); }
        connected = true;
      });
      connection = attempt;
      attempt.catch(() => { if (connection === attempt) connection = undefined; });
    }
    await connection;
  }
  async function disconnect(): Promise<void> {
    const c = connection;
    connection = undefined;
    if (!c) return;
    if (!connected) {
      // Still connecting: kafkajs may keep retrying for many seconds; close() must not wait that out.
      await producer.disconnect().catch(() => undefined);
      return;
    }
    connected = false;
    disconnecting = producer.disconnect().catch(() => undefined).finally(() => (disconnecting = undefined));
    await disconnecting;
  }

  function schedule(now: boolean): void {
    if (idleTimer) { clearTimeout(idleTimer); idleTimer = undefined; }
    if (sending || retryTimer || closed) return;
    if (queue.length === 0) {
      if (connection && !closing && o.idleDisconnectMs > 0) {
        idleTimer = setTimeout(() => { idleTimer = undefined; void disconnect(); }, o.idleDisconnectMs);
        idleTimer.unref();
      }
      return;
    }
    if (now || queue.length >= o.batchSize || closing) {
      if (lingerTimer) { clearTimeout(lingerTimer); lingerTimer = undefined; }
      void sendLoop();
    } else if (!lingerTimer) {
      lingerTimer = setTimeout(() => { lingerTimer = undefined; schedule(true); }, o.lingerMs);
    }
  }

  async function sendLoop(): Promise<void> {
    sending = true;
    let size = o.batchSize;
    try {
      while (queue.length > 0 && !closed) {
        const batch = queue.slice(0, size);
        try {
          await connect();
          await producer.send({ topic: o.topic, messages: batch.map((q) => q.message), acks: -1 });
        } catch (err) {
          if (closed) return; // close() has reported these as not acknowledged
          const e = err as Error;
          const refusedRecords = brokerRefusedRecords(err);
          if (refusedRecords && batch.length > 1) { size = Math.ceil(batch.length / 2); continue; } // e.g. a batch too large: split it
          if (refusedRecords) {
            // One event the broker will never take (e.g. larger than max.message.bytes): report it, go on.
            lastRefusal = new DataError('OVERSIZE', `the broker refused an event for ${o.topic} (key ${batch[0].message.key?.toString()}): ${e.message}`, undefined, { cause: err });
            fail(lastRefusal, false);
            refusedCount++;
            if (refused.length < o.maxQueue) refused.push(batch[0].event);
            release(1, false);
            continue;
          }
          fail(new InfrastructureError('kafka', `could not deliver ${queue.length} queued events to ${o.topic}: ${e.message}`, { cause: err }), true);
          return;
        }
        failures = 0;
        size = o.batchSize;
        release(batch.length, true);
      }
    } finally {
      sending = false;
      schedule(false);
    }
  }

  /** The first `n` queued events are done with: make room, and end the flushes they complete. */
  function release(n: number, delivered: boolean): void {
    queue.splice(0, n);
    released += n;
    if (delivered) acknowledged += n;
    while (spaceWaiters.length > 0 && queue.length < o.maxQueue) spaceWaiters.shift()!();
    for (let i = flushWaiters.length - 1; i >= 0; i--) {
      if (flushWaiters[i].target <= released) flushWaiters.splice(i, 1)[0].resolve();
    }
  }

  /** Reports a failure to the flushes waiting now; with `retry`, sends again after a backoff. */
  function fail(err: TracklaneError, retry: boolean): void {
    lastError = err;
    onError(err);
    for (const w of flushWaiters.splice(0)) w.reject(err);
    if (!retry) return;
    failures++;
    const delay = backoffDelay(failures - 1, 300, MAX_BACKOFF_MS);
    retryTimer = setTimeout(() => { retryTimer = undefined; schedule(true); }, delay);
  }

  function waitForFlush(): Promise<void> {
    const target = queued;
    if (released >= target) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => flushWaiters.push({ target, resolve, reject }));
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = undefined; } // an explicit flush tries now
    schedule(true);
    return done;
  }

  async function enqueue(event: unknown): Promise<void> {
    const traceparent = eventTraceparent();
    const enc = await getEncoder();
    const record = stampEvent(event, o, enc.fields, traceparent);
    const value = enc.encode(record);
    const message: Message = { key: recordKey(record, o), value, headers: traceparent ? { traceparent } : undefined };
    while (queue.length >= o.maxQueue && !closed) await new Promise<void>((resolve) => spaceWaiters.push(resolve));
    if (closed) throw new InfrastructureError('kafka', `track(): the tracker for ${o.topic} closed (its deadline passed) before this event could be queued`);
    queue.push({ message, event: record });
    queued++;
    schedule(false);
  }

  const onSigterm = () => {
    void close()
      .catch((err: TracklaneError) => onError(err))
      // Our listener replaced Node's default: when nobody else handles SIGTERM, exit as it would have.
      .finally(() => { if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM'); });
  };
  const onBeforeExit = () => void close().catch((err: TracklaneError) => onError(err));
  if (o.handleSignals) {
    process.once('SIGTERM', onSigterm);
    process.once('beforeExit', onBeforeExit);
  }

  function close(closeOptions?: { timeoutMs?: number }): Promise<CloseReport<T>> {
    const timeoutMs = closeOptions?.timeoutMs ?? o.closeTimeoutMs;
    if (!closePromise && !(timeoutMs >= 0)) return Promise.reject(new UserError(`close(): timeoutMs must be a number >= 0, got ${timeoutMs}`));
    closePromise ??= (async () => {
      closing = true;
      process.removeListener('SIGTERM', onSigterm);
      process.removeListener('beforeExit', onBeforeExit);
      let timer: NodeJS.Timeout | undefined;
      const deadline = Date.now() + timeoutMs;
      const timeLeft = () => new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now())); });
      // Tracks already under way (validating, or waiting for room) get their events in first.
      await Promise.race([Promise.allSettled([...tracksInProgress]), timeLeft()]);
      clearTimeout(timer);
      // Keep retrying through transient failures until the queue is empty or time is up.
      while (released < queued && Date.now() < deadline) {
        const outcome = await Promise.race([waitForFlush().then(() => 'ok' as const, () => 'failed' as const), timeLeft()]);
        clearTimeout(timer);
        if (outcome === 'failed') await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, deadline - Date.now()))));
      }
      closed = true;
      for (const wake of spaceWaiters.splice(0)) wake();
      // Not acknowledged by the deadline; one batch may still be in flight and arrive after all
      // (sending it again is safe: the copies share their event_id, which dedupe drops).
      const left = queue.splice(0);
      if (lingerTimer) clearTimeout(lingerTimer);
      if (retryTimer) clearTimeout(retryTimer);
      await disconnect();
      let error: TracklaneError | undefined = lastRefusal;
      if (left.length > 0) {
        error = new InfrastructureError('kafka', `tracker closed with ${left.length} events not delivered to ${o.topic} after ${timeoutMs} ms${lastError ? ` (last error: ${lastError.message})` : ''}`, { cause: lastError });
        onError(error);
        for (const w of flushWaiters.splice(0)) w.reject(error); // a flush() still waiting would wait forever
      }
      return {
        delivered: acknowledged,
        undelivered: refusedCount + left.length,
        events: [...refused, ...left.map((q) => q.event)] as T[],
        ...(error ? { error } : {}),
      };
    })();
    return closePromise;
  }

  return {
    track(event) {
      if (closePromise) return Promise.reject(new UserError(`track(): the tracker for ${o.topic} is closed`));
      const p = enqueue(event);
      const settled = p.then(() => undefined, () => undefined);
      tracksInProgress.add(settled);
      void settled.then(() => tracksInProgress.delete(settled));
      return p;
    },
    flush: waitForFlush,
    close,
  };
}

/**
 * True when the broker refused the records themselves (too large, invalid): sending them
 * again cannot help. Anything else — including kafkajs giving up after its retries — is
 * treated as an outage and retried.
 */
function brokerRefusedRecords(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { type?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.type === 'string' && ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD'].includes(e.type)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => brokerRefusedRecords(x, depth + 1))) return true;
  return brokerRefusedRecords(e.cause, depth + 1);
}

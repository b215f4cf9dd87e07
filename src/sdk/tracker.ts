import { Kafka, type KafkaConfig, type Message, type Producer, type RetryOptions } from 'kafkajs';
import { traceIdFromTraceparent } from '../enrich/correlation';
import { Registry, registryOptionsFromEnv } from '../decode/registry';
import { DataError, InfrastructureError, TracklaneError, UserError } from '../errors';
import { backoffDelay } from '../errors/retry';
import { logger } from '../observability/logger';
import { PRODUCER_OPTIONS } from '../sink/producer';
import { kafkaConfigFromEnv } from '../source/kafka';
import { loadEncoder, type EventEncoder } from './encoder';
import { currentTraceparent } from './trace-context';
import { uuidv7 } from './uuidv7';

export interface TrackerOptions {
  /** Source topic of the topology, e.g. raw.checkout. */
  topic: string;
  /** Registry subject whose latest schema encodes events, e.g. raw.checkout-value. */
  subject: string;
  /** Default: KAFKA_BROKERS (then 127.0.0.1:9092). SASL/TLS come from the env as for the engine. */
  brokers?: string[];
  /** Default: SCHEMA_REGISTRY_URL (then the local Apicurio); credentials from the env. */
  registryUrl?: string;
  /** Filled with a UUIDv7 when absent; also the record key. Default event_id. */
  idempotencyKeyField?: string;
  /** Filled with Date.now() (epoch ms) when absent; a Date is turned into epoch ms. Default ts. */
  eventTimeField?: string;
  /** Filled with the trace id of the active traceparent when absent. Default correlation_id. */
  correlationField?: string;
  /** Events per produce request. Default 500. */
  batchSize?: number;
  /** How long a partial batch waits for company when the sender is idle. Default 50 ms. */
  lingerMs?: number;
  /** Events held in memory (queued or in flight); track() waits while it is full. Default 10,000. */
  maxQueue?: number;
  /** Overrides of the kafkajs client config (merged over the env-based one). */
  kafka?: Partial<KafkaConfig>;
  /** Flush on SIGTERM and beforeExit. Default true. */
  handleSignals?: boolean;
  /**
   * Disconnect from Kafka after this long without events (reconnects on the next one).
   * A connected kafkajs producer keeps the process alive; this lets a script that never
   * calls close() end by itself. 0 = stay connected. Default 5 s.
   */
  idleDisconnectMs?: number;
  /** How long close() keeps trying to deliver queued events. Default 30 s. */
  closeTimeoutMs?: number;
  /** Background delivery failures (the events stay queued and are retried). Default: logged. */
  onError?: (err: TracklaneError) => void;
}

export type TrackEvent = Record<string, unknown>;

export interface Tracker {
  /**
   * Validates and encodes the event, then queues it; resolves once queued (waits while the
   * queue is full). Rejects with a DataError (code VALIDATION_FAILED, `path` = JSON pointer)
   * naming the field when the event does not fit the schema.
   */
  track(event: TrackEvent): Promise<void>;
  /** Resolves when every event queued before the call is acknowledged by all in-sync replicas. */
  flush(): Promise<void>;
  /** Stops accepting events, delivers the queue (up to closeTimeoutMs), disconnects. Idempotent. */
  close(): Promise<void>;
}

/** kafkajs's own retries per send; after them the tracker keeps the batch and tries again. */
const SEND_RETRY: RetryOptions = { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 };
const MAX_BACKOFF_MS = 10_000;

export function createTracker(options: TrackerOptions): Tracker {
  const o = resolveOptions(options);
  const log = logger.child({ stage: 'sdk', topic: o.topic });
  const onError = options.onError ?? ((err: TracklaneError) => log.warn({ code: err.code, err: err.message }, 'tracklane sdk: delivery failed; will retry'));
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

  // Events stay in `queue` until acknowledged; `sent` counts acknowledged events ever, so a
  // flush waits for `sent` to reach the number queued when it was called.
  const queue: Message[] = [];
  let queued = 0;
  let sent = 0;
  let connection: Promise<void> | undefined;
  let disconnecting: Promise<void> | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let sending = false;
  let closing = false;
  let closed = false;
  let lingerTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let closePromise: Promise<void> | undefined;
  const tracksInProgress = new Set<Promise<void>>();
  const spaceWaiters: Array<() => void> = [];
  const flushWaiters: Array<{ target: number; resolve: () => void; reject: (e: Error) => void }> = [];

  async function connect(): Promise<void> {
    if (disconnecting) await disconnecting;
    if (!connection) {
      connection = producer.connect();
      connection.catch(() => (connection = undefined));
    }
    await connection;
  }
  async function disconnect(): Promise<void> {
    const c = connection;
    connection = undefined;
    if (c) {
      disconnecting = c.then(() => producer.disconnect(), () => undefined).finally(() => (disconnecting = undefined));
      await disconnecting;
    }
  }

  function schedule(now: boolean): void {
    if (idleTimer) { clearTimeout(idleTimer); idleTimer = undefined; }
    if (sending || retryTimer) return;
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
      while (queue.length > 0) {
        const batch = queue.slice(0, size);
        try {
          await connect();
          await producer.send({ topic: o.topic, messages: batch, acks: -1 });
        } catch (err) {
          const e = err as Error;
          const refused = brokerRefusedRecords(err);
          if (refused && batch.length > 1) { size = Math.ceil(batch.length / 2); continue; } // e.g. a batch too large: split it
          if (refused) {
            // One event the broker will never take (e.g. larger than max.message.bytes): report it, go on.
            fail(new DataError('OVERSIZE', `the broker refused an event for ${o.topic} (key ${batch[0].key?.toString()}): ${e.message}`, undefined, { cause: err }), false);
            release(1);
            continue;
          }
          fail(new InfrastructureError('kafka', `could not deliver ${queue.length} queued events to ${o.topic}: ${e.message}`, { cause: err }), true);
          return;
        }
        failures = 0;
        size = o.batchSize;
        release(batch.length);
      }
    } finally {
      sending = false;
      schedule(false);
    }
  }

  /** The first `n` queued events are done with: make room, and end the flushes they complete. */
  function release(n: number): void {
    queue.splice(0, n);
    sent += n;
    while (spaceWaiters.length > 0 && queue.length < o.maxQueue) spaceWaiters.shift()!();
    for (let i = flushWaiters.length - 1; i >= 0; i--) {
      if (flushWaiters[i].target <= sent) flushWaiters.splice(i, 1)[0].resolve();
    }
  }

  /** Reports a failure to the flushes waiting now; with `retry`, sends again after a backoff. */
  function fail(err: TracklaneError, retry: boolean): void {
    onError(err);
    for (const w of flushWaiters.splice(0)) w.reject(err);
    if (!retry) return;
    failures++;
    const delay = backoffDelay(failures - 1, 300, MAX_BACKOFF_MS);
    retryTimer = setTimeout(() => { retryTimer = undefined; schedule(true); }, delay);
  }

  function waitForFlush(): Promise<void> {
    const target = queued;
    if (sent >= target) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => flushWaiters.push({ target, resolve, reject }));
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = undefined; } // an explicit flush tries now
    schedule(true);
    return done;
  }

  async function enqueue(event: TrackEvent): Promise<void> {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      throw new DataError('VALIDATION_FAILED', `track() takes an event object, got ${Array.isArray(event) ? 'an array' : typeof event}`, '/');
    }
    const traceparent = currentTraceparent();
    const enc = await getEncoder();
    const record: TrackEvent = { ...event };
    const has = (f: string) => !enc.fields || enc.fields.has(f);
    if (absent(record[o.idempotencyKeyField]) && has(o.idempotencyKeyField)) record[o.idempotencyKeyField] = uuidv7();
    if (record[o.eventTimeField] instanceof Date) record[o.eventTimeField] = (record[o.eventTimeField] as Date).getTime();
    if (absent(record[o.eventTimeField]) && has(o.eventTimeField)) record[o.eventTimeField] = Date.now();
    if (traceparent && absent(record[o.correlationField]) && has(o.correlationField)) record[o.correlationField] = traceIdFromTraceparent(traceparent);
    const value = enc.encode(record);
    const key = record[o.idempotencyKeyField];
    const message: Message = { key: absent(key) ? null : String(key), value, headers: traceparent ? { traceparent } : undefined };
    while (queue.length >= o.maxQueue && !closed) await new Promise<void>((resolve) => spaceWaiters.push(resolve));
    if (closed) throw new InfrastructureError('kafka', `track(): the tracker for ${o.topic} closed while this event waited for room in its full queue`);
    queue.push(message);
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

  function close(): Promise<void> {
    closePromise ??= (async () => {
      closing = true;
      process.removeListener('SIGTERM', onSigterm);
      process.removeListener('beforeExit', onBeforeExit);
      let timer: NodeJS.Timeout | undefined;
      const deadline = Date.now() + o.closeTimeoutMs;
      const timeLeft = () => new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now())); });
      // Tracks already under way (validating, or waiting for room) get their events in first.
      await Promise.race([Promise.allSettled([...tracksInProgress]), timeLeft()]);
      clearTimeout(timer);
      // Keep retrying through transient failures until the queue is empty or time is up.
      while (sent < queued && Date.now() < deadline) {
        const outcome = await Promise.race([waitForFlush().then(() => 'ok' as const, () => 'failed' as const), timeLeft()]);
        clearTimeout(timer);
        if (outcome === 'failed') await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, deadline - Date.now()))));
      }
      closed = true;
      for (const wake of spaceWaiters.splice(0)) wake();
      const undelivered = queue.length;
      if (lingerTimer) clearTimeout(lingerTimer);
      if (retryTimer) clearTimeout(retryTimer);
      queue.length = 0;
      await disconnect();
      if (undelivered > 0) throw new InfrastructureError('kafka', `tracker closed with ${undelivered} events not delivered to ${o.topic} after ${o.closeTimeoutMs} ms`);
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

function absent(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

function resolveOptions(options: TrackerOptions) {
  const problems: string[] = [];
  const text = (name: string, v: unknown) => { if (typeof v !== 'string' || v.trim() === '') problems.push(`${name} must be a non-empty string`); };
  const int = (name: string, v: number, min: number) => { if (!Number.isInteger(v) || v < min) problems.push(`${name} must be an integer >= ${min}, got ${v}`); return v; };
  text('topic', options.topic);
  text('subject', options.subject);
  const o = {
    topic: options.topic,
    subject: options.subject,
    idempotencyKeyField: options.idempotencyKeyField ?? 'event_id',
    eventTimeField: options.eventTimeField ?? 'ts',
    correlationField: options.correlationField ?? 'correlation_id',
    batchSize: int('batchSize', options.batchSize ?? 500, 1),
    lingerMs: int('lingerMs', options.lingerMs ?? 50, 0),
    maxQueue: int('maxQueue', options.maxQueue ?? 10_000, 1),
    closeTimeoutMs: int('closeTimeoutMs', options.closeTimeoutMs ?? 30_000, 0),
    idleDisconnectMs: int('idleDisconnectMs', options.idleDisconnectMs ?? 5_000, 0),
    handleSignals: options.handleSignals ?? true,
  };
  for (const f of ['idempotencyKeyField', 'eventTimeField', 'correlationField'] as const) text(f, o[f]);
  if (problems.length) throw new UserError(`createTracker: ${problems.join('; ')}`, problems);
  return o;
}

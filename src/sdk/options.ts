import type avro from 'avsc';
import type { KafkaConfig } from 'kafkajs';
import { UserError, type TracklaneError } from '../errors';

/** The fields the SDK fills when an event leaves them out; both modes share them. */
export interface EventFieldOptions {
  /** Filled with a UUIDv7 when absent; also the record key. Default event_id. */
  idempotencyKeyField?: string;
  /** Filled with Date.now() (epoch ms) when absent; a Date is turned into epoch ms. Default ts. */
  eventTimeField?: string;
  /** Filled with the trace id of the active trace context when absent. Default correlation_id. */
  correlationField?: string;
}

/** Sends events to Kafka, encoded with the registry's latest schema of `subject`. */
export interface TrackerOptions extends EventFieldOptions {
  mode?: 'kafka';
  /** Source topic of the topology, e.g. raw.checkout. */
  topic: string;
  /** Registry subject whose latest schema encodes events, e.g. raw.checkout-value. */
  subject: string;
  /** Default: KAFKA_BROKERS (then 127.0.0.1:9092). SASL/TLS come from the env as for the engine. */
  brokers?: string[];
  /** Default: SCHEMA_REGISTRY_URL (then the local Apicurio); credentials from the env. */
  registryUrl?: string;
  /** Events per produce request. Default 500. */
  batchSize?: number;
  /** How long a partial batch waits for company when the sender is idle. Default 50 ms. */
  lingerMs?: number;
  /** Events held in memory (queued or in flight); track() waits while it is full. Default 10,000. */
  maxQueue?: number;
  /** Overrides of the kafkajs client config (merged over the env-based one). */
  kafka?: Partial<KafkaConfig>;
  /**
   * Close (and deliver the queue) on SIGTERM and beforeExit, then re-raise SIGTERM when nobody
   * else listens. Default false: a service owns its shutdown — stop taking requests, let them
   * finish, then `await tracker.close()` (docs/sdk.md). Meant for scripts and workers that have
   * no shutdown of their own.
   */
  handleSignals?: boolean;
  /**
   * Disconnect from Kafka after this long without events (reconnects on the next one).
   * A connected kafkajs producer keeps the process alive; this lets a script that never
   * calls close() end by itself. 0 = stay connected. Default 5 s.
   */
  idleDisconnectMs?: number;
  /** How long close() keeps trying to deliver queued events, unless close() is given its own. Default 30 s. */
  closeTimeoutMs?: number;
  /** Background delivery failures (the events stay queued and are retried). Default: logged. */
  onError?: (err: TracklaneError) => void;
}

/** Keeps events in memory for a service's own tests: no Kafka, no registry. */
export interface MemoryTrackerOptions extends EventFieldOptions {
  mode: 'memory';
  /**
   * Validate events against this schema, exactly as the Kafka tracker would: a path to an
   * Avro (.avsc) or JSON Schema file, a parsed schema, or an avsc Type. Without one, events
   * are kept as given (with the filled fields) and not validated.
   */
  schema?: string | avro.Schema | avro.Type | Record<string, unknown>;
  /** Accepted so a test can pass its production options unchanged; not used. */
  topic?: string;
  subject?: string;
}

export type ResolvedFields = Required<EventFieldOptions>;

export function resolveKafkaOptions(options: TrackerOptions) {
  const problems: string[] = [];
  const int = (name: string, v: number, min: number) => { if (!Number.isInteger(v) || v < min) problems.push(`${name} must be an integer >= ${min}, got ${v}`); return v; };
  text(problems, 'topic', options.topic);
  text(problems, 'subject', options.subject);
  const o = {
    ...fieldOptions(problems, options),
    topic: options.topic,
    subject: options.subject,
    batchSize: int('batchSize', options.batchSize ?? 500, 1),
    lingerMs: int('lingerMs', options.lingerMs ?? 50, 0),
    maxQueue: int('maxQueue', options.maxQueue ?? 10_000, 1),
    closeTimeoutMs: int('closeTimeoutMs', options.closeTimeoutMs ?? 30_000, 0),
    idleDisconnectMs: int('idleDisconnectMs', options.idleDisconnectMs ?? 5_000, 0),
    handleSignals: options.handleSignals ?? false,
  };
  if (problems.length) throw new UserError(`createTracker: ${problems.join('; ')}`, problems);
  return o;
}

export function resolveFieldOptions(options: EventFieldOptions): ResolvedFields {
  const problems: string[] = [];
  const o = fieldOptions(problems, options);
  if (problems.length) throw new UserError(`createTracker: ${problems.join('; ')}`, problems);
  return o;
}

function fieldOptions(problems: string[], options: EventFieldOptions): ResolvedFields {
  const o = {
    idempotencyKeyField: options.idempotencyKeyField ?? 'event_id',
    eventTimeField: options.eventTimeField ?? 'ts',
    correlationField: options.correlationField ?? 'correlation_id',
  };
  for (const f of ['idempotencyKeyField', 'eventTimeField', 'correlationField'] as const) text(problems, f, o[f]);
  return o;
}

function text(problems: string[], name: string, v: unknown): void {
  if (typeof v !== 'string' || v.trim() === '') problems.push(`${name} must be a non-empty string`);
}

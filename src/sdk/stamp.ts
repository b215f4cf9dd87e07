import { traceIdFromTraceparent } from '../enrich/correlation';
import { DataError } from '../errors';
import type { ResolvedFields } from './options';
import { otelTraceparent } from './otel';
import { currentTraceparent } from './trace-context';
import { uuidv7 } from './uuidv7';

export type TrackEvent = Record<string, unknown>;

/**
 * The trace context an event made now belongs to: the one set by withTraceparent() (explicit,
 * so it wins), else the active OpenTelemetry span.
 */
export function eventTraceparent(): string | undefined {
  return currentTraceparent() ?? otelTraceparent();
}

/**
 * A copy of `event` with the fields the SDK fills: idempotency key (UUIDv7), event time
 * (now; a Date becomes epoch ms) and correlation id (the trace id). Only fields the schema
 * has (`fields`; undefined = any) are filled; values the caller set are kept.
 */
export function stampEvent(event: unknown, o: ResolvedFields, fields: ReadonlySet<string> | undefined, traceparent: string | undefined): TrackEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new DataError('VALIDATION_FAILED', `track() takes an event object, got ${Array.isArray(event) ? 'an array' : event === null ? 'null' : typeof event}`, '/');
  }
  const record: TrackEvent = { ...(event as TrackEvent) };
  const has = (f: string) => !fields || fields.has(f);
  if (absent(record[o.idempotencyKeyField]) && has(o.idempotencyKeyField)) record[o.idempotencyKeyField] = uuidv7();
  if (record[o.eventTimeField] instanceof Date) record[o.eventTimeField] = (record[o.eventTimeField] as Date).getTime();
  if (absent(record[o.eventTimeField]) && has(o.eventTimeField)) record[o.eventTimeField] = Date.now();
  if (traceparent && absent(record[o.correlationField]) && has(o.correlationField)) record[o.correlationField] = traceIdFromTraceparent(traceparent);
  return record;
}

/** The record key: the idempotency key, so one event's copies land on one partition. */
export function recordKey(record: TrackEvent, o: ResolvedFields): string | null {
  const key = record[o.idempotencyKeyField];
  return absent(key) ? null : String(key);
}

function absent(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

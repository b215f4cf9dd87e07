import { UserError } from '../errors';
import { localEncoder, type EventEncoder } from './encoder';
import { resolveFieldOptions, type MemoryTrackerOptions } from './options';
import { eventTraceparent, stampEvent, type TrackEvent } from './stamp';
import type { MemoryTracker } from './tracker-types';

/**
 * The tracker a service's tests use instead of Kafka: the same filling (event_id, ts,
 * correlation id from the trace context) and, given a schema, the same validation and
 * encoding, so a test sees the rejections production would. Events are kept in memory.
 */
export function createMemoryTracker<T extends object>(options: MemoryTrackerOptions): MemoryTracker<T> {
  const o = resolveFieldOptions(options);
  const encoder: EventEncoder | undefined = options.schema === undefined ? undefined : localEncoder(options.schema);
  let kept: TrackEvent[] = [];
  let delivered = 0;
  let closed = false;

  return {
    async track(event) {
      if (closed) throw new UserError('track(): the tracker is closed');
      const record = stampEvent(event, o, encoder?.fields, eventTraceparent());
      encoder?.encode(record); // throws the DataError production would
      kept.push(record);
      delivered++;
    },
    async flush() {},
    async close() {
      closed = true;
      return { delivered, undelivered: 0, events: [] };
    },
    events: () => [...kept] as T[],
    clear() {
      kept = [];
    },
  };
}

import type { Labels } from './labels';

// SLI windows are tumbling buckets in event time, aligned to the epoch: a bucket is
// [start, start + bucketMs). Everything is epoch milliseconds.

export function bucketStart(eventTime: number, bucketMs: number): number {
  return Math.floor(eventTime / bucketMs) * bucketMs;
}

export function bucketEnd(eventTime: number, bucketMs: number): number {
  return bucketStart(eventTime, bucketMs) + bucketMs;
}

/**
 * Late = the event's bucket is already closed, i.e. its end is at or before `closedThrough`
 * (the boundary up to which buckets have been emitted). Lateness is decided per bucket, not
 * per event: an event older than the watermark whose bucket is still open is counted normally.
 */
export function isLate(eventTime: number, bucketMs: number, closedThrough: number | null): boolean {
  return closedThrough !== null && bucketEnd(eventTime, bucketMs) <= closedThrough;
}

/** Where an observation came from: the store fences on it so a replayed offset never counts twice. */
export interface SourcePosition {
  topic: string;
  partition: number;
  /** Kafka offset (kafkajs gives strings); must be below 2^53. */
  offset: string;
}

/** One event's contribution to one SLI. */
export interface SliObservation extends SourcePosition {
  sli: string;
  /** The raw groupBy values; the store caps them to maxSeries (src/window/series-cap.ts). */
  labels: Labels;
  good: boolean;
  eventTime: number;
  /** Latency SLIs only: the measured value (same unit as the SLI's threshold). */
  latencyValue?: number;
}

import type { DeadLetterReason } from '../errors';
import type { SourceSpec, Topology } from '../topology/types';
import type { Logger } from '../observability/logger';

/** The `tracklane` field of an enriched event (DESIGN.md section 6). */
export interface TracklaneMeta {
  /** null when no id was found and the correlation step does not generate one (or is absent). */
  correlation_id: string | null;
  correlation_generated: boolean;
  user_id: string | null;
  anonymous_id: string | null;
  session_id: string | null;
  event_time: number;
  ingested_at: number;
  processed_at: number;
  clock_skew_ms: number;
  source: { topic: string; partition: number; offset: number; schema_id: number; subject: string; schema_version: number };
  pipeline: { name: string; version: number; instance: string };
  steps: string[];
  pseudonymized: string[];
  pseudonym_key_id: string | null;
  consent: string | null;
  /** 1/rate of the sample step that kept the event (1 for a keep match); null without sampling. */
  sample_weight: number | null;
}

export interface Failure {
  reason: DeadLetterReason;
  message: string;
  /** JSON pointer into the event, where it applies. */
  path?: string;
  stage: string;
}

/** One input record on its way through the pipeline. Stages mutate it in place. */
export interface PipelineEvent {
  source: SourceSpec;
  topic: string;
  partition: number;
  offset: string;
  /** Broker (or producer) timestamp of the input record, epoch ms. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  /** Set by decode. */
  schemaId?: number;
  schemaVersion?: number;
  record?: Record<string, unknown>;
  idempotencyKey?: string;
  eventTime?: number;
  meta: Partial<TracklaneMeta> & { steps: string[]; pseudonymized: string[] };
  /** Set when the event must become a dead letter; later stages skip it. */
  failure?: Failure;
  /** Set when the event is deliberately not forwarded (duplicate, consent drop). Counted, not dead-lettered. */
  dropped?: 'duplicate' | 'consent' | 'sampled';
  /** The sample step's decision, counted once the batch is delivered. */
  sample?: { rule: string; decision: 'kept_rule' | 'kept_rate' | 'dropped' };
}

export function isLive(ev: PipelineEvent): boolean {
  return !ev.failure && !ev.dropped;
}

/**
 * Whether an event counts for the SLIs: every event that was not dead-lettered or dropped as a
 * duplicate or for consent. Sampled-out events count exactly as if kept, so SLOs stay exact.
 */
export function countsForSlis(ev: PipelineEvent): boolean {
  return !ev.failure && (!ev.dropped || ev.dropped === 'sampled');
}

export function fail(ev: PipelineEvent, failure: Failure): void {
  if (!ev.failure) ev.failure = failure;
}

/** A record for one of the topology's output topics, ready for kafkajs (re-exported by sink/output). */
export interface OutputMessage {
  topic: string;
  key: Buffer | string | null;
  value: Buffer;
  headers?: Record<string, Buffer | string>;
  partition?: number;
}

export interface StageContext {
  topology: Topology;
  instanceId: string;
  log: Logger;
  /**
   * Records a stage adds to this batch's delivery besides the per-event outputs (e.g.
   * tracklane.SessionMerged). Fresh for every pass over the batch, delivered (and, with
   * exactly-once, committed) together with it.
   */
  extraOutputs?: OutputMessage[];
  /** Offset of the first record of the batch (input partition), also when a stage runs event by event. */
  firstOffset?: string;
}

/**
 * One processor contract for every stage (Benthos-style): work on the whole batch so that a
 * stage can make one Redis round trip per batch. A bad event is marked with fail(); only
 * infrastructure errors throw (and are retried by the consume loop with the batch paused).
 */
export interface Stage {
  readonly name: string;
  process(batch: PipelineEvent[], ctx: StageContext): Promise<void>;
  close?(): Promise<void>;
}

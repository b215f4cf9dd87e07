import type { PipelineEvent } from '../pipeline/event';
import type { PartitionCommit } from './delivery';

/** A record for one of the topology's output topics, ready for kafkajs. */
export interface OutputMessage {
  topic: string;
  key: Buffer | string | null;
  value: Buffer;
  headers?: Record<string, Buffer | string>;
  partition?: number;
}

/** Turns a processed batch into output records (enriched, dead letters). */
export interface OutputBuilder {
  build(events: PipelineEvent[]): OutputMessage[];
}

/** Work that follows enrichment and may add records to the same delivery (SLI windows, alerts). */
export interface BatchObserver {
  observe(events: PipelineEvent[], commit: PartitionCommit): Promise<OutputMessage[]>;
}

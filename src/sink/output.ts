import type { OutputMessage, PipelineEvent } from '../pipeline/event';
import type { PartitionCommit } from './delivery';

// Defined next to StageContext, whose extraOutputs carry them; the sink's name for them.
export type { OutputMessage } from '../pipeline/event';

/** Turns a processed batch into output records (enriched, dead letters). */
export interface OutputBuilder {
  build(events: PipelineEvent[]): OutputMessage[];
}

/** Work that follows enrichment and may add records to the same delivery (SLI windows, alerts). */
export interface BatchObserver {
  observe(events: PipelineEvent[], commit: PartitionCommit): Promise<OutputMessage[]>;
}

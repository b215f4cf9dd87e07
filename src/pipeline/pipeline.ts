import type { Metrics } from '../observability/metrics';
import type { PipelineEvent, Stage, StageContext } from './event';

/**
 * Runs the stages in order over one batch. One wrapper times every stage, so steps do not
 * instrument themselves. A stage that throws (infrastructure) aborts the batch; the consume
 * loop retries the whole batch from the raw records.
 */
export class Pipeline {
  constructor(readonly stages: readonly Stage[], private readonly metrics?: Metrics) {}

  async process(batch: PipelineEvent[], ctx: StageContext): Promise<void> {
    for (const stage of this.stages) {
      const end = this.metrics?.batchSeconds.startTimer({ stage: stage.name });
      await stage.process(batch, ctx);
      end?.();
    }
  }

  async close(): Promise<void> {
    for (const stage of this.stages) await stage.close?.();
  }
}

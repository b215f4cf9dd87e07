import { DataError } from '../errors';
import { isTransient } from '../errors/transient';
import type { Metrics } from '../observability/metrics';
import { fail, isLive, type PipelineEvent, type Stage, type StageContext } from './event';

/** A stage in its place: `path` names it in dead letters and logs (`enrich[2].session`). */
export interface PlacedStage {
  path: string;
  stage: Stage;
}

/**
 * A stage threw an error that is not retriable while working on a whole batch: a bug or an
 * event it cannot handle. The conductor runs the batch again from its raw records with this
 * stage isolated (see Pipeline.process), so the bad event is found and dead-lettered.
 */
export class StageFailed extends Error {
  constructor(readonly path: string, readonly error: unknown) {
    super(`stage ${path} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    this.name = 'StageFailed';
  }
}

/**
 * Runs the stages in order over one batch. One wrapper times every stage, so steps do not
 * instrument themselves. A retriable error (Redis, the registry) aborts the batch and the
 * conductor retries it from the raw records. Any other error becomes StageFailed; on the
 * next pass that stage runs event by event (`isolate`), and an event it still throws on
 * becomes an ENRICHMENT_FAILED dead letter while the rest of the batch goes on. Isolation
 * re-runs from raw records, not in place, because a stage may have changed some events
 * before it threw (a pseudonym hashed twice would be wrong); batch Redis round trips stay
 * as they are on the normal path.
 */
export class Pipeline {
  readonly stages: readonly PlacedStage[];

  constructor(stages: ReadonlyArray<PlacedStage | Stage>, private readonly metrics?: Metrics) {
    this.stages = stages.map((s) => ('stage' in s ? s : { path: s.name, stage: s }));
  }

  async process(batch: PipelineEvent[], ctx: StageContext, isolate?: ReadonlySet<string>): Promise<void> {
    for (const { path, stage } of this.stages) {
      const end = this.metrics?.batchSeconds.startTimer({ stage: stage.name });
      if (isolate?.has(path)) {
        await this.oneByOne(path, stage, batch, ctx);
      } else {
        try {
          await stage.process(batch, ctx);
        } catch (err) {
          if (isTransient(err)) throw err;
          throw new StageFailed(path, err);
        }
      }
      end?.();
    }
  }

  private async oneByOne(path: string, stage: Stage, batch: PipelineEvent[], ctx: StageContext): Promise<void> {
    for (const ev of batch) {
      if (!isLive(ev)) continue;
      try {
        await stage.process([ev], ctx);
      } catch (err) {
        if (isTransient(err)) throw err;
        const message = (err as Error)?.message ?? String(err);
        ctx.log.warn({ stage: path, topic: ev.topic, partition: ev.partition, offset: ev.offset, error: (err as Error)?.name, message }, 'stage failed on one event; dead-lettering it');
        if (err instanceof DataError) fail(ev, { reason: err.reason, message, path: err.path, stage: path });
        else fail(ev, { reason: 'ENRICHMENT_FAILED', message, stage: path });
      }
    }
  }

  async close(): Promise<void> {
    for (const { stage } of this.stages) await stage.close?.();
  }
}

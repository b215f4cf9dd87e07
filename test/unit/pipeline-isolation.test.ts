import { InfrastructureError } from '../../src/errors';
import { logger } from '../../src/observability/logger';
import type { PipelineEvent, Stage, StageContext } from '../../src/pipeline/event';
import { Pipeline, StageFailed } from '../../src/pipeline/pipeline';

const log = logger.child({});
log.level = 'silent';
const ctx = { log } as unknown as StageContext;

function events(n: number): PipelineEvent[] {
  return Array.from({ length: n }, (_, i) => ({ offset: String(i), record: { i }, meta: { steps: [], pseudonymized: [] } }) as unknown as PipelineEvent);
}

const picky: Stage = {
  name: 'picky',
  async process(batch) {
    for (const ev of batch) if ((ev.record as { i: number }).i === 2) throw new TypeError('cannot handle 2');
  },
};

describe('Pipeline failure isolation', () => {
  it('reports a non-retriable error on the whole batch as StageFailed with the stage path', async () => {
    const p = new Pipeline([{ path: 'enrich[0].picky', stage: picky }]);
    const err = await p.process(events(4), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageFailed);
    expect((err as StageFailed).path).toBe('enrich[0].picky');
  });

  it('run event by event, only the bad event fails (ENRICHMENT_FAILED) and later stages see the rest', async () => {
    const seen: number[] = [];
    const after: Stage = { name: 'after', async process(batch) { for (const ev of batch) if (!ev.failure) seen.push((ev.record as { i: number }).i); } };
    const p = new Pipeline([{ path: 'enrich[0].picky', stage: picky }, { path: 'enrich[1].after', stage: after }]);
    const batch = events(4);
    await p.process(batch, ctx, new Set(['enrich[0].picky']));
    expect(batch.map((e) => e.failure && { reason: e.failure.reason, stage: e.failure.stage, message: e.failure.message })).toEqual([
      undefined, undefined, { reason: 'ENRICHMENT_FAILED', stage: 'enrich[0].picky', message: 'cannot handle 2' }, undefined,
    ]);
    expect(seen).toEqual([0, 1, 3]);
  });

  it('lets retriable errors through untouched, also when isolated', async () => {
    const down: Stage = { name: 'down', async process() { throw new InfrastructureError('redis', 'Connection is closed'); } };
    const p = new Pipeline([{ path: 'enrich[0].down', stage: down }]);
    await expect(p.process(events(2), ctx)).rejects.toBeInstanceOf(InfrastructureError);
    await expect(p.process(events(2), ctx, new Set(['enrich[0].down']))).rejects.toBeInstanceOf(InfrastructureError);
  });
});

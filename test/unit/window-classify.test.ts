import type { PipelineEvent } from '../../src/pipeline/event';
import type { SliSpec, SourceSpec } from '../../src/topology/types';
import { SliClassifier } from '../../src/window/classify';

const source = { name: 'web', topic: 'raw' } as SourceSpec;

function event(offset: number, record: Record<string, unknown>, extra: Partial<PipelineEvent> = {}): PipelineEvent {
  return {
    source, topic: 'raw', partition: 2, offset: String(offset), timestamp: 0, key: null, value: null, headers: {},
    meta: { steps: [], pseudonymized: [] }, record, eventTime: 1_000 + offset, ...extra,
  };
}

const slis: SliSpec[] = [
  { name: 'success', kind: 'ratio', good: "status == 'ok'", total: "type == 'checkout'", groupBy: ['region'], maxSeries: 10 },
  { name: 'latency', kind: 'latency', field: 'timing.duration_ms', threshold: 300, filter: "type == 'checkout'", groupBy: [], maxSeries: 10 },
];

test('ratio and latency SLIs: total/filter select, good/threshold decide, groupBy labels', () => {
  const errors: string[] = [];
  const c = new SliClassifier(slis, (sli) => errors.push(sli));
  const out = c.classify([
    event(1, { type: 'checkout', status: 'ok', region: 'eu', timing: { duration_ms: 120 } }),
    event(2, { type: 'checkout', status: 'failed', region: 'us', timing: { duration_ms: 301 } }),
    event(3, { type: 'view', status: 'ok', region: 'eu', timing: { duration_ms: 5 } }),
    event(4, { type: 'checkout', status: 'ok', region: 'eu', timing: { duration_ms: null } }),
  ]);
  expect(out.map((o) => [o.offset, o.sli, o.good, o.labels, o.latencyValue])).toEqual([
    ['1', 'success', true, { region: 'eu' }, undefined],
    ['1', 'latency', true, {}, 120],
    ['2', 'success', false, { region: 'us' }, undefined],
    ['2', 'latency', false, {}, 301],
    ['4', 'success', true, { region: 'eu' }, undefined],
  ]);
  expect(out[0]).toMatchObject({ topic: 'raw', partition: 2, eventTime: 1_001 });
  expect(errors).toEqual([]);
});

test('dead letters, duplicates and events without event time do not count; a failing good counts as not good', () => {
  const errors: string[] = [];
  const broken: SliSpec = { name: 'broken', kind: 'ratio', good: 'size(status) > 0', total: 'true', groupBy: [], maxSeries: 10 };
  const c = new SliClassifier([...slis, broken], (sli) => errors.push(sli));
  const out = c.classify([
    event(1, { type: 'checkout', status: 'ok', region: 'eu', timing: { duration_ms: 1 } }, { failure: { reason: 'VALIDATION_FAILED', message: 'x', stage: 'validate' } }),
    event(2, { type: 'checkout', status: 'ok', region: 'eu', timing: { duration_ms: 1 } }, { dropped: 'duplicate' }),
    event(3, { type: 'checkout', status: 'ok', region: 'eu', timing: { duration_ms: 1 } }, { eventTime: undefined }),
    event(4, { type: 'view', status: 5, region: 'eu' }), // size() of a number: evaluation error
  ]);
  expect(out.map((o) => [o.offset, o.sli, o.good])).toEqual([['4', 'broken', false]]);
  expect(errors).toEqual(['broken.good']);
});

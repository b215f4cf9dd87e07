import { createMetrics } from '../../src/observability/metrics';
import { ExpressionErrors } from '../../src/expr/errors';
import type { PipelineEvent } from '../../src/pipeline/event';
import type { SliSpec, SourceSpec } from '../../src/topology/types';
import { SliClassifier } from '../../src/window/classify';

const source = { name: 'web', topic: 'raw' } as SourceSpec;

function event(offset: number, record: Record<string, unknown>): PipelineEvent {
  return {
    source, topic: 'raw', partition: 0, offset: String(offset), timestamp: 0, key: null, value: null, headers: {},
    meta: { steps: [], pseudonymized: [] }, record, eventTime: 1_000 + offset,
  };
}

/** A prom-client Counter as the classifier sees it. */
class FakeCounter {
  readonly values = new Map<string, number>();
  inc(labels: { expression: string }, value = 1): void {
    this.values.set(labels.expression, (this.values.get(labels.expression) ?? 0) + value);
  }
}

const slis: SliSpec[] = [
  // `size(status)` fails when status is a number: an evaluation error on that event only.
  { name: 'checkout-success', kind: 'ratio', good: 'size(status) > 1', total: "type == 'checkout'", groupBy: [], maxSeries: 10 },
  { name: 'typed-total', kind: 'ratio', good: 'true', total: 'size(type) > 1', groupBy: [], maxSeries: 10 },
  { name: 'latency', kind: 'latency', field: 'duration_ms', threshold: 300, filter: 'size(type) > 1', groupBy: [], maxSeries: 10 },
];

describe('CEL evaluation errors at run time', () => {
  it('a failing good counts the event as not good; a failing total or filter leaves it out; each is counted', () => {
    const counter = new FakeCounter();
    const errors = new ExpressionErrors({ counter });
    errors.declare(['checkout-success.good', 'checkout-success.total', 'typed-total.good', 'typed-total.total', 'latency.filter']);
    const c = new SliClassifier(slis, (expression, err) => errors.report(expression, err));
    const out = c.classify([
      event(1, { type: 'checkout', status: 'ok', duration_ms: 10 }),
      event(2, { type: 'checkout', status: 500, duration_ms: 10 }), // good fails
      event(3, { type: 7, status: 'ok', duration_ms: 10 }), // total and filter fail
    ]);
    expect(out.map((o) => [o.offset, o.sli, o.good])).toEqual([
      ['1', 'checkout-success', true],
      ['1', 'typed-total', true],
      ['1', 'latency', true],
      ['2', 'checkout-success', false],
      ['2', 'typed-total', true],
      ['2', 'latency', true],
    ]);
    expect(Object.fromEntries(counter.values)).toEqual({
      'checkout-success.good': 1,
      'checkout-success.total': 0,
      'typed-total.good': 0,
      'typed-total.total': 1,
      'latency.filter': 1,
    });
  });

  it('logs at most once a minute per expression, saying how many were not logged', () => {
    let now = 0;
    const lines: Array<Record<string, unknown>> = [];
    const counter = new FakeCounter();
    const errors = new ExpressionErrors({ counter, now: () => now, log: { warn: (obj) => lines.push(obj as Record<string, unknown>) } });
    const c = new SliClassifier(slis.slice(0, 1), (expression, err) => errors.report(expression, err));
    const bad = () => c.classify([event(1, { type: 'checkout', status: 500, duration_ms: 1 })]);
    bad();
    now = 30_000;
    bad();
    bad();
    now = 59_999;
    bad();
    expect(lines).toHaveLength(1);
    now = 60_000;
    bad();
    expect(counter.values.get('checkout-success.good')).toBe(5);
    expect(lines.map((l) => [l.expression, l.code, l.suppressedSinceLastLog])).toEqual([
      ['checkout-success.good', 'no_matching_overload', 0],
      ['checkout-success.good', 'no_matching_overload', 3],
    ]);
    expect(String(lines[0].error)).toContain('size(status) > 1');
  });

  it('never logs the event values of a non-bool result', () => {
    const lines: Array<Record<string, unknown>> = [];
    const errors = new ExpressionErrors({ log: { warn: (obj) => lines.push(obj as Record<string, unknown>) } });
    const c = new SliClassifier([{ ...slis[0], good: 'dyn(status)' }], (expression, err) => errors.report(expression, err));
    c.classify([event(1, { type: 'checkout', status: 'secret@example.com', duration_ms: 1 })]);
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain('secret@example.com');
    expect(lines[0].code).toBe('not_bool');
  });
});

test('tracklane_expression_errors_total{topology,expression} exists at 0 and counts', async () => {
  const metrics = createMetrics('shop');
  const errors = new ExpressionErrors({ counter: metrics.expressionErrors });
  errors.declare(['checkout-success.good', 'checkout-success.total']);
  errors.report('checkout-success.good', new Error('boom'));
  const text = await metrics.registry.metrics();
  expect(text).toContain('tracklane_expression_errors_total{expression="checkout-success.good",topology="shop"} 1');
  expect(text).toContain('tracklane_expression_errors_total{expression="checkout-success.total",topology="shop"} 0');
});

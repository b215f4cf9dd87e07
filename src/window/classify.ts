import type { PipelineEvent } from '../pipeline/event';
import { countsForSlis } from '../pipeline/event';
import { celScope, compileCel, type CelProgram, type CelScope } from '../expr/cel';
import type { SliSpec } from '../topology/types';
import type { SliObservation } from './bucket';
import { seriesLabels } from './series-cap';

// Which SLIs an event counts for, and how. Only events that go on (not dead-lettered, not
// dropped as duplicates or for consent) and have an event time count. Events the sample step
// left out count as if kept: SLIs are computed before sampling, so SLOs stay exact.
// - ratio SLI: counted when `total` holds; good when `good` also holds.
// - latency SLI: counted when `filter` holds (or there is none) and `field` is a number;
//   good when the value is <= threshold; the value feeds the window's DDSketch.
// An expression that fails on an event (CelEvaluationError: a missing field, a type clash) is
// reported to onError as `<sli>.good`, `<sli>.total` or `<sli>.filter` (counted and logged by
// src/expr/errors.ts) and then:
// - `good` failed: the event counts, as not good. Failures of the SLI's own rule are what
//   the SLI is about; dropping those events would make a broken rule look like 100%.
// - `total` or `filter` failed: the event is left out of the SLI: it cannot be said to be one
//   of the events the SLI measures. (docs/slo.md says the same.)

interface CompiledSli {
  spec: SliSpec;
  total?: CelProgram;
  good?: CelProgram;
  filter?: CelProgram;
  /** Latency SLIs: `field` split on dots, once. */
  path?: string[];
  /** Metric label of each expression. */
  names: { total?: string; good?: string; filter?: string };
}

export class SliClassifier {
  private readonly slis: CompiledSli[];

  constructor(slis: readonly SliSpec[], private readonly onError: (expression: string, err: unknown) => void = () => {}) {
    this.slis = slis.map((spec) =>
      spec.kind === 'ratio'
        ? { spec, total: compileCel(spec.total), good: compileCel(spec.good), names: { total: `${spec.name}.total`, good: `${spec.name}.good` } }
        : { spec, filter: spec.filter ? compileCel(spec.filter) : undefined, path: spec.field.split('.'), names: { filter: `${spec.name}.filter` } },
    );
  }

  /** True, false, or undefined when the expression failed (reported). */
  private test(program: CelProgram, name: string, scope: CelScope): boolean | undefined {
    try {
      return program.evaluate(scope);
    } catch (err) {
      this.onError(name, err);
      return undefined;
    }
  }

  classify(events: readonly PipelineEvent[]): SliObservation[] {
    const out: SliObservation[] = [];
    for (const ev of events) {
      if (!countsForSlis(ev) || ev.eventTime === undefined || !ev.record) continue;
      const record = ev.record;
      const scope = celScope(record); // one per event, shared by every SLI's expressions
      for (const s of this.slis) {
        // Built in place (no intermediate object per event and SLI: this runs ~1,500 times a batch).
        const spec = s.spec;
        let good: boolean;
        let latencyValue: number | undefined;
        if (spec.kind === 'ratio') {
          if (this.test(s.total!, s.names.total!, scope) !== true) continue;
          good = this.test(s.good!, s.names.good!, scope) === true;
        } else {
          if (s.filter && this.test(s.filter, s.names.filter!, scope) !== true) continue;
          const raw = fieldValue(record, s.path!);
          const value = typeof raw === 'bigint' ? Number(raw) : raw;
          if (typeof value !== 'number' || !Number.isFinite(value)) continue;
          good = value <= spec.threshold;
          latencyValue = value;
        }
        const o: SliObservation = { good, sli: spec.name, labels: seriesLabels(spec.groupBy, record), eventTime: ev.eventTime, topic: ev.topic, partition: ev.partition, offset: ev.offset };
        if (latencyValue !== undefined) o.latencyValue = latencyValue;
        out.push(o);
      }
    }
    return out;
  }
}

/** `a.b.c` walks nested records. */
function fieldValue(record: Record<string, unknown>, path: readonly string[]): unknown {
  let cur: unknown = record;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

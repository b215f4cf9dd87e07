import type { Labels } from './labels';

// Bounded label sets per SLI. The first maxSeries distinct label sets an SLI sees are kept;
// every later one counts under `__other__` for each groupBy label. "First" must mean the same
// on every instance and after restarts, so the admitted set lives in Redis and is decided by
// the sliAdd script (SADD only while SCARD < maxSeries). capSeries is that rule, pure.

export const OTHER = '__other__';

/** groupBy values of one event. Missing or null values become "" (they are still a value). */
export function seriesLabels(groupBy: readonly string[], record: Record<string, unknown>): Labels {
  const labels: Labels = {};
  for (const field of groupBy) {
    const v = record[field];
    labels[field] = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return labels;
}

export function otherLabels(groupBy: readonly string[]): Labels {
  return Object.fromEntries(groupBy.map((g) => [g, OTHER]));
}

export type SeriesDecision = 'known' | 'admit' | 'other';

/**
 * `known`: already admitted; `admit`: room left, add it; `other`: the SLI is full. A label set
 * with no groupBy labels ("" key) is always admitted by the store without using a slot.
 */
export function capSeries(key: string, known: ReadonlySet<string>, maxSeries: number): SeriesDecision {
  if (known.has(key)) return 'known';
  return known.size < maxSeries ? 'admit' : 'other';
}

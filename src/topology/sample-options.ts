// Options of the `sample` step (docs/topology.md "sample"). Its own file so that the step
// registry (./steps.ts) gains one line.

import { z } from 'zod';
import { celExpression, field, strictObject } from './primitives';
import type { SampleStep } from './types';

const rate = z.number().gt(0, 'a rate is a probability above 0 (0.1 keeps one event in ten)').max(1, 'a rate is at most 1');

const adaptive = strictObject({
  /** Events per second one instance keeps per group (besides keep matches). */
  targetPerSecond: z.number().positive(),
  by: z.array(field).max(8, 'group by at most 8 fields').default([]),
  minRate: rate.default(0.01),
  /** Distinct groups tracked; later ones share the `__other__` rate. */
  maxGroups: z.number().int().min(1).max(10_000).default(100),
});

export const sampleOptions = strictObject({
  keep: celExpression.optional(),
  rate: rate.optional(),
  by: z.array(field).max(8, 'key by at most 8 fields').default([]),
  adaptive: adaptive.optional(),
})
  .superRefine((o, ctx) => {
    if (o.rate === undefined && o.adaptive === undefined) {
      ctx.addIssue({ code: 'custom', message: 'sample needs a rate (e.g. rate: 0.1) or adaptive: { targetPerSecond }', path: ['rate'] });
    }
    if (o.adaptive && o.rate !== undefined && o.rate < o.adaptive.minRate) {
      ctx.addIssue({ code: 'custom', message: `rate ${o.rate} is below adaptive.minRate ${o.adaptive.minRate}`, path: ['rate'] });
    }
  })
  .transform((o): SampleStep => {
    const step: SampleStep = { kind: 'sample', rate: o.rate ?? 1, by: o.by };
    if (o.keep !== undefined) step.keep = o.keep;
    if (o.adaptive) step.adaptive = { ...o.adaptive };
    return step;
  });

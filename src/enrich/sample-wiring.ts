import { ExpressionErrors } from '../expr/errors';
import { logger } from '../observability/logger';
import type { Stage } from '../pipeline/event';
import type { SampleStep } from '../topology/types';
import { createSampleStep, KEEP_EXPRESSION } from './sample';
import type { StepDeps } from './steps';

/** Metric series, lazily registered at 0, and the rule label (the step's pipeline path). */
export function createSampleStepFor(step: SampleStep, deps: StepDeps): Stage {
  const rule = `enrich[${deps.topology.enrich.indexOf(step)}].sample`;
  const m = deps.metrics;
  for (const decision of ['kept_rule', 'kept_rate', 'dropped']) m?.sampleEvents.inc({ rule, decision }, 0);
  const expressionErrors = new ExpressionErrors({ counter: m?.expressionErrors, log: logger.child({ topology: deps.topology.name, step: rule }) });
  if (step.keep !== undefined) expressionErrors.declare([KEEP_EXPRESSION]);
  return createSampleStep(step, rule, {
    expressionErrors,
    windowMs: deps.topology.windows.bucketMs,
    onRate: (group, rate) => {
      if (rate === undefined) m?.sampleRate.remove({ rule, group });
      else m?.sampleRate.set({ rule, group }, rate);
    },
  });
}

import type { Metrics } from '../observability/metrics';
import type { Stage } from '../pipeline/event';
import type { Keys } from '../state/keys';
import type { RedisClient } from '../state/redis';
import type { EnrichStep, Topology } from '../topology/types';
import { personalFields } from '../topology/personal';
import { createConsentStep } from './consent';
import { CORRELATION_PROBLEMS, createCorrelationStep } from './correlation';
import { createIdentityStage } from './identity';
import { createPiiScanStep } from './pii-scan';
import { createPseudonymizeStep } from './pseudonymize';
import { createSampleStepFor } from './sample-wiring';
import { createSessionStage } from './session';
import type { SessionMergedTarget } from './session-merged';

export interface StepDeps {
  topology: Topology;
  metrics?: Metrics;
  /** Present when the topology has a stateful step (identity, session) or dedupe. */
  redis?: RedisClient;
  keys?: Keys;
  env?: NodeJS.ProcessEnv;
  /** Where the session step publishes tracklane.SessionMerged (absent without a metrics output). */
  sessionMerged?: SessionMergedTarget;
}

export const STATEFUL_STEPS: ReadonlySet<EnrichStep['kind']> = new Set(['identity', 'session']);

function state(deps: StepDeps): { redis: RedisClient; keys: Keys } {
  if (!deps.redis || !deps.keys) throw new Error('a stateful step needs Redis');
  return { redis: deps.redis, keys: deps.keys };
}

/** Builds the stage of one configured step; the topology loader has validated its options. */
export function createStep(step: EnrichStep, deps: StepDeps): Stage {
  switch (step.kind) {
    case 'correlation':
      CORRELATION_PROBLEMS.forEach((reason) => deps.metrics?.correlationInvalid.inc({ reason }, 0));
      return createCorrelationStep(step, { onInvalid: (reason) => deps.metrics?.correlationInvalid.inc({ reason }) });
    case 'pseudonymize':
      return createPseudonymizeStep(step, deps.env);
    case 'consent':
      return createConsentStep(step, personalFields(deps.topology).pseudonymized);
    case 'pii-scan': {
      const { pseudonymized, strippable } = personalFields(deps.topology);
      return createPiiScanStep(step, [...pseudonymized, ...strippable], { onDetected: (field, kind) => deps.metrics?.piiDetected.inc({ field, kind }) }, deps.env);
    }
    case 'identity': {
      const { redis, keys } = state(deps);
      return createIdentityStage(redis, keys, step, { onMergeBlocked: () => deps.metrics?.identityMergeBlocked.inc() });
    }
    case 'session': {
      const { redis, keys } = state(deps);
      const identity = deps.topology.enrich.find((s) => s.kind === 'identity');
      return createSessionStage(redis, keys, step, {
        identity: identity?.kind === 'identity' ? identity : undefined,
        allowedLatenessMs: deps.topology.windows.allowedLatenessMs,
        merged: deps.sessionMerged,
        onEvicted: (n) => deps.metrics?.sessionEvicted.inc(n),
      });
    }
    case 'sample':
      return createSampleStepFor(step, deps);
  }
}

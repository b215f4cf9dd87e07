import type { PipelineEvent, Stage } from '../pipeline/event';
import { fail, isLive } from '../pipeline/event';
import type { ConsentStep } from '../topology/types';

const DENIED = new Set(['false', 'denied', 'no', '0', 'n', 'off', 'revoked']);

/** A consent field counts as denied only when it says so; a missing field is "unknown" (null). */
export function consentState(value: unknown): 'granted' | 'denied' | null {
  if (value === null || value === undefined) return null;
  if (value === false || value === 0) return 'denied';
  if (typeof value === 'string' && DENIED.has(value.trim().toLowerCase())) return 'denied';
  return 'granted';
}

/**
 * Applies the user's consent choice. `strip` nulls the personal fields (the step's `fields`,
 * by default every field a pseudonymize step names) and keeps the event for SLIs.
 */
export function createConsentStep(step: ConsentStep, personalFields: readonly string[]): Stage {
  const fields = step.fields ?? personalFields;
  function deny(ev: PipelineEvent): void {
    if (step.whenDenied === 'drop') ev.dropped = 'consent';
    else if (step.whenDenied === 'deadletter') fail(ev, { reason: 'CONSENT_DENIED', message: `${step.field} denies consent`, path: `/${step.field}`, stage: 'consent' });
    else for (const field of fields) if (field in ev.record!) ev.record![field] = null;
  }
  return {
    name: 'consent',
    async process(batch) {
      for (const ev of batch) {
        if (!isLive(ev)) continue;
        const state = consentState(ev.record![step.field]);
        ev.meta.consent = state;
        ev.meta.steps.push('consent');
        if (state === 'denied') deny(ev);
      }
    },
  };
}

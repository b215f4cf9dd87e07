import type { Stage } from '../pipeline/event';
import { isLive } from '../pipeline/event';
import type { PseudonymizeStep } from '../topology/types';
import { parsePseudonymKeys, pseudonym } from './pseudonym-keys';

/** Replaces personal fields with keyed HMACs; the raw values never leave this step. */
export function createPseudonymizeStep(step: PseudonymizeStep, env = process.env): Stage {
  const [active] = parsePseudonymKeys(env.TRACKLANE_PSEUDONYM_KEYS);
  return {
    name: 'pseudonymize',
    async process(batch) {
      for (const ev of batch) {
        if (!isLive(ev)) continue;
        const record = ev.record!;
        for (const field of step.fields) {
          const value = record[field];
          if (value === null || value === undefined) continue;
          record[field] = pseudonym(active, typeof value === 'string' ? value : JSON.stringify(value));
          ev.meta.pseudonymized.push(field);
        }
        ev.meta.pseudonym_key_id = active.id;
        ev.meta.steps.push('pseudonymize');
      }
    },
  };
}

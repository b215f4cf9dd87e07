import type { Stage } from '../pipeline/event';
import { fail, isLive } from '../pipeline/event';
import type { PiiKind, PiiScanStep } from '../topology/types';
import { findPii, replaceFindings } from './pii/scan';
import { stringSites } from './pii/walk';
import { parsePseudonymKeys, pseudonym } from './pseudonym-keys';

/** Distinct `field` label values per step; beyond it findings count under `__other__`. */
export const MAX_FIELD_LABELS = 100;

export interface PiiScanHooks {
  /** One call per value found. `field` is a bounded label; the value itself never leaves the step. */
  onDetected?(field: string, kind: PiiKind): void;
}

const KIND_NAMES: Record<PiiKind, string> = { email: 'an e-mail address', ip: 'an IP address', phone: 'a phone number', card: 'a payment card number', secret: 'a secret' };

/**
 * Scans the string values of the fields not declared personal (`personal`: what pseudonymize
 * and consent already handle) for personal data and secrets. `count` only counts;
 * `pseudonymize` replaces each value found, inside its string, by the pseudonymize step's
 * `kid:hex`; `deadletter` fails the event as PII_DETECTED at the first value's JSON pointer.
 */
export function createPiiScanStep(step: PiiScanStep, personal: readonly string[], hooks: PiiScanHooks = {}, env = process.env): Stage {
  const kinds = new Set(step.kinds);
  const skipped = new Set([...step.except, ...personal]);
  const key = step.action === 'pseudonymize' ? parsePseudonymKeys(env.TRACKLANE_PSEUDONYM_KEYS)[0] : undefined;
  const labels = new Set<string>();
  const bounded = (label: string): string => {
    if (labels.has(label)) return label;
    if (labels.size >= MAX_FIELD_LABELS) return '__other__';
    labels.add(label);
    return label;
  };
  return {
    name: 'pii-scan',
    async process(batch) {
      for (const ev of batch) {
        if (!isLive(ev)) continue;
        const record = ev.record!;
        ev.meta.steps.push('pii-scan');
        for (const field of step.fields ?? Object.keys(record)) {
          if (skipped.has(field) || !(field in record)) continue;
          const top = `/${field}`;
          for (const site of stringSites(record[field], top, top, (v) => (record[field] = v))) {
            const findings = findPii(site.value, kinds);
            if (findings.length === 0) continue;
            for (const f of findings) hooks.onDetected?.(bounded(site.label), f.kind);
            if (step.action === 'deadletter') {
              fail(ev, { reason: 'PII_DETECTED', message: `pii-scan found ${KIND_NAMES[findings[0].kind]} in ${site.pointer}`, path: site.pointer, stage: 'pii-scan' });
            } else if (key) {
              site.set(replaceFindings(site.value, findings, (value) => pseudonym(key, value)));
              if (!ev.meta.pseudonymized.includes(field)) ev.meta.pseudonymized.push(field);
              ev.meta.pseudonym_key_id = key.id;
            }
          }
        }
      }
    },
  };
}

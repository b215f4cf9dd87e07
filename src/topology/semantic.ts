// Checks that span several parts of a topology: names that refer to each other, topics that
// must not collide, the dedupe key. They run on the raw YAML data (defensively, whatever its
// shape) so they are reported together with the schema errors, all at once.

import { googleSreTiers } from './tiers';
import { formatDuration, parseDuration } from './duration';
import { findStep } from './steps';

export interface Problem {
  path: PropertyKey[];
  message: string;
  /** Point at the map key rather than its value (an unknown key, a bad step name). */
  atKey?: boolean;
  /** Offset inside a CEL expression string. */
  celOffset?: number;
  /** The field itself is absent: point at its parent. */
  missing?: boolean;
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function semanticProblems(doc: unknown): Problem[] {
  const problems: Problem[] = [];
  const spec = isRec(doc) && isRec(doc.spec) ? doc.spec : undefined;
  if (!spec) return problems;
  const sources = list(spec.sources);
  const slis = list(spec.slis);
  const slos = list(spec.slos);

  uniqueNames(sources, ['spec', 'sources'], 'source', problems);
  uniqueNames(slis, ['spec', 'slis'], 'SLI', problems);
  uniqueNames(slos, ['spec', 'slos'], 'SLO', problems);

  const sliNames = slis.map((s) => (isRec(s) ? str(s.name) : undefined)).filter((n): n is string => n !== undefined);
  slos.forEach((s, i) => {
    const ref = isRec(s) ? str(s.sli) : undefined;
    if (ref !== undefined && !sliNames.includes(ref)) {
      const known = sliNames.length ? `defined SLIs: ${sliNames.join(', ')}` : 'no SLIs are defined under spec.slis';
      problems.push({ path: ['spec', 'slos', i, 'sli'], message: `SLO refers to SLI "${ref}", which does not exist; ${known}` });
    }
  });

  outputsProblems(spec, slis, slos, problems);
  topicProblems(spec, sources, problems);
  dedupeProblems(spec, sources, problems);
  enrichProblems(spec, problems);
  tierWindowProblems(spec, problems);
  return problems;
}

function uniqueNames(items: unknown[], at: PropertyKey[], what: string, problems: Problem[]): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const n = isRec(item) ? str(item.name) : undefined;
    if (n === undefined) return;
    const first = seen.get(n);
    if (first !== undefined) problems.push({ path: [...at, i, 'name'], message: `duplicate ${what} name "${n}" (also ${at.join('.')}[${first}])` });
    else seen.set(n, i);
  });
}

/** metrics and alerts outputs carry SLI windows and alerts: needed only when there are SLIs or SLOs. */
function outputsProblems(spec: Rec, slis: unknown[], slos: unknown[], problems: Problem[]): void {
  if (!isRec(spec.outputs) || (slis.length === 0 && slos.length === 0)) return;
  const has = slis.length > 0 ? 'SLIs' : 'SLOs';
  const why = { metrics: 'each closed SLI window is published there', alerts: 'SLO alert transitions are published there' };
  for (const kind of ['metrics', 'alerts'] as const) {
    if (spec.outputs[kind] === undefined) problems.push({ path: ['spec', 'outputs', kind], missing: true, message: `required when the topology has ${has}: ${why[kind]}` });
  }
}

function topicProblems(spec: Rec, sources: unknown[], problems: Problem[]): void {
  const sourceTopics = new Map<string, number>();
  sources.forEach((s, i) => {
    const t = isRec(s) ? str(s.topic) : undefined;
    if (t === undefined) return;
    if (sourceTopics.has(t)) problems.push({ path: ['spec', 'sources', i, 'topic'], message: `topic "${t}" is already read by spec.sources[${sourceTopics.get(t)}]` });
    else sourceTopics.set(t, i);
  });
  if (!isRec(spec.outputs)) return;
  const outputTopics = new Map<string, string>();
  for (const kind of ['enriched', 'deadLetter', 'metrics', 'alerts']) {
    const out = spec.outputs[kind];
    const t = isRec(out) ? str(out.topic) : undefined;
    if (t === undefined) continue;
    const path = ['spec', 'outputs', kind, 'topic'];
    if (sourceTopics.has(t)) {
      problems.push({ path, message: `output topic "${t}" is also a source topic; writing back to the input would loop` });
    } else if (outputTopics.has(t)) {
      problems.push({ path, message: `output topic "${t}" is also the ${outputTopics.get(t)} topic; each output needs its own topic` });
    }
    if (!outputTopics.has(t)) outputTopics.set(t, kind);
  }
}

function dedupeProblems(spec: Rec, sources: unknown[], problems: Problem[]): void {
  if (!isRec(spec.dedupe)) return;
  const key = str(spec.dedupe.key);
  if (key === undefined) return;
  sources.forEach((s, i) => {
    const idem = isRec(s) ? str(s.idempotencyKey) : undefined;
    if (idem !== undefined && idem !== key) {
      problems.push({
        path: ['spec', 'dedupe', 'key'],
        message: `dedupe.key "${key}" differs from spec.sources[${i}].idempotencyKey "${idem}"; duplicates are found by the idempotency key, so leave dedupe.key out or make them equal`,
      });
    }
  });
}

function enrichProblems(spec: Rec, problems: Problem[]): void {
  const seen = new Map<string, number>();
  let pseudonymized = false;
  const steps = list(spec.enrich);
  steps.forEach((entry, i) => {
    if (!isRec(entry) || Object.keys(entry).length !== 1) return;
    const stepName = Object.keys(entry)[0];
    if (!findStep(stepName)) return;
    if (seen.has(stepName)) {
      problems.push({ path: ['spec', 'enrich', i, stepName], atKey: true, message: `step "${stepName}" already appears at spec.enrich[${seen.get(stepName)}]; each step runs at most once` });
    } else seen.set(stepName, i);
    if (stepName === 'pseudonymize') pseudonymized = true;
    // Steps after it would not run on sampled-out events: sessions and identities would then
    // depend on the sample. Sampling is what happens after enrichment, before the sink.
    if (stepName === 'sample' && i !== steps.length - 1) {
      problems.push({ path: ['spec', 'enrich', i, stepName], atKey: true, message: 'sample must be the last enrich step: the steps after it would not see the events it drops' });
    }
  });
  steps.forEach((entry, i) => {
    if (!isRec(entry) || Object.keys(entry).length !== 1 || !isRec(entry.consent)) return;
    const c = entry.consent;
    const strips = c.whenDenied === undefined || c.whenDenied === 'strip';
    if (strips && c.fields === undefined && !pseudonymized) {
      problems.push({
        path: ['spec', 'enrich', i, 'consent'],
        atKey: true,
        message: 'consent with whenDenied: strip has nothing to strip: list the personal fields in consent.fields or add a pseudonymize step (its fields are stripped by default)',
      });
    }
  });
}

/** A written duration, the default when absent, undefined when invalid (reported elsewhere). */
function durationOf(v: unknown, fallback: string): number | undefined {
  if (v === undefined) return parseDuration(fallback);
  if (typeof v !== 'string') return undefined;
  try {
    return parseDuration(v);
  } catch {
    return undefined;
  }
}

/**
 * Burn rates are computed from closed window buckets, so a tier's short window must hold at
 * least one bucket. google-sre tiers scale with the period: a 1d period gives the 1h/5m tier a
 * 10s short window.
 */
function tierWindowProblems(spec: Rec, problems: Problem[]): void {
  const bucket = durationOf(isRec(spec.windows) ? spec.windows.bucket : undefined, '1m');
  if (bucket === undefined || bucket <= 0) return;
  list(spec.slos).forEach((slo, i) => {
    if (!isRec(slo)) return;
    const period = durationOf(slo.period, '30d');
    if (period === undefined || period <= 0) return;
    const alerting = isRec(slo.alerting) ? slo.alerting : {};
    const tiers = alerting.tiers ?? 'google-sre';
    if (tiers === 'google-sre') {
      const disabled = new Set(list(alerting.disable));
      const short = googleSreTiers(period).filter((t) => !disabled.has(t.name) && t.shortWindowMs < bucket);
      if (short.length === 0) return;
      problems.push({
        path: ['spec', 'slos', i, slo.period === undefined ? 'name' : 'period'],
        message:
          `with a ${formatDuration(period)} period the google-sre tier${short.length > 1 ? 's' : ''} ` +
          short.map((t) => `${t.name} (short window ${formatDuration(t.shortWindowMs)})`).join(', ') +
          ` cannot be computed from ${formatDuration(bucket)} windows.bucket; use a smaller bucket, disable ${short.length > 1 ? 'them' : 'it'} or write explicit tiers`,
      });
    } else {
      list(tiers).forEach((tier, j) => {
        if (!isRec(tier)) return;
        const short = durationOf(tier.short, '0s');
        if (short !== undefined && short > 0 && short < bucket) {
          problems.push({
            path: ['spec', 'slos', i, 'alerting', 'tiers', j, 'short'],
            message: `short window ${formatDuration(short)} is shorter than windows.bucket (${formatDuration(bucket)}); burn rates are computed from whole buckets`,
          });
        }
      });
    }
  });
}

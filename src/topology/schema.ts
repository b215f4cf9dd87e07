// The topology document (docs/topology.md, DESIGN.md section 5) as one zod schema. Objects are
// strict: an unknown field is an error, not silently ignored. Durations come out as
// milliseconds, steps/SLIs/SLOs in the shapes of ./types. Checks that span several parts of the
// document (names that refer to each other, topics, schema files) live in ./semantic.ts.

import { z } from 'zod';
import { googleSreTiers } from './tiers';
import type { BuiltinMeasure, BuiltinType, BurnRateTier, LatencySli, RatioSli, SliSpec, SloSpec } from './types';
import { BUILTIN_TYPES } from './builtin-slis';
import { DEAD_LETTER_REASONS } from '../errors';
import { formatDuration } from './duration';
import { celExpression, duration, field, name, parseInto, positiveDuration, strictObject, topic } from './primitives';
import { findStep, KNOWN_STEP_NAMES } from './steps';
import type { EnrichStep } from './types';

const MiB = 1024 * 1024;

export const DEFAULTS = Object.freeze({
  delivery: 'at-least-once',
  format: 'avro',
  partitions: 3,
  maxFutureSkew: '5m',
  maxValueBytes: MiB,
  alertsFormat: 'avro',
  bucket: '1m',
  allowedLateness: '2m',
  idleTimeout: '30s',
  maxSeries: 100,
  period: '30d',
  minEvents: 10,
  tiers: 'google-sre',
  dedupeWindow: '24h',
  onConflict: 'deadletter',
  readerSchema: 'latest',
} as const);

// --- sources --------------------------------------------------------------------------------

const source = strictObject({
  name,
  topic,
  format: z.enum(['avro', 'json-schema']).default(DEFAULTS.format),
  subject: z.string().min(1).optional(),
  schema: z.string().min(1).optional(),
  partitions: z.number().int().min(1).max(10_000).default(DEFAULTS.partitions),
  eventTime: strictObject({
    field,
    maxFutureSkew: duration.prefault(DEFAULTS.maxFutureSkew),
  }),
  idempotencyKey: field,
  maxValueBytes: z.number().int().min(1).max(64 * MiB).default(DEFAULTS.maxValueBytes),
  readerSchema: z.enum(['latest', 'pinned']).default(DEFAULTS.readerSchema),
}).transform((s) => ({
  name: s.name,
  topic: s.topic,
  format: s.format,
  // TopicNameStrategy, as everywhere else in Tracklane.
  subject: s.subject ?? `${s.topic}-value`,
  schema: s.schema,
  partitions: s.partitions,
  eventTime: { field: s.eventTime.field, maxFutureSkewMs: s.eventTime.maxFutureSkew },
  idempotencyKey: s.idempotencyKey,
  maxValueBytes: s.maxValueBytes,
  readerSchema: s.readerSchema,
}));

// --- enrich ---------------------------------------------------------------------------------

const knownSteps = KNOWN_STEP_NAMES.join(', ');

/** `- identity: { ... }`: a map with exactly one key, the step name, looked up in the registry. */
const enrichEntry = z.unknown().transform((entry, ctx): EnrichStep => {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || Object.keys(entry).length !== 1) {
    ctx.addIssue({ code: 'custom', message: `each enrich entry is one step name with its options, e.g. "- session: { by: [user_id], gap: 30m }"; known steps: ${knownSteps}` });
    return z.NEVER;
  }
  const [stepName, options] = Object.entries(entry)[0];
  const step = findStep(stepName);
  if (!step) {
    ctx.addIssue({ code: 'custom', message: `unknown enrichment step "${stepName}"; known steps: ${knownSteps}`, path: [stepName], params: { atKey: true } });
    return z.NEVER;
  }
  const parsed = parseInto(step.optionsSchema, options ?? {}, ctx, [stepName]);
  return parsed ?? z.NEVER;
});

// --- dedupe, outputs, windows ---------------------------------------------------------------

const dedupe = strictObject({
  /** Defaults to the sources' idempotencyKey; when given it must equal it (semantic.ts). */
  key: field.optional(),
  window: positiveDuration.prefault(DEFAULTS.dedupeWindow),
  onConflict: z.enum(['deadletter', 'keep', 'drop']).default(DEFAULTS.onConflict),
});

const output = strictObject({ topic, partitions: z.number().int().min(1).max(10_000).optional() });

const outputs = strictObject({
  enriched: output,
  deadLetter: output,
  /** Required when the topology has SLIs or SLOs (semantic.ts): a pure enrichment pipeline publishes none. */
  metrics: output.optional(),
  alerts: strictObject({
    topic,
    partitions: z.number().int().min(1).max(10_000).optional(),
    format: z.enum(['avro', 'json']).default(DEFAULTS.alertsFormat),
  }).optional(),
});

const windows = strictObject({
  bucket: positiveDuration.prefault(DEFAULTS.bucket),
  allowedLateness: duration.prefault(DEFAULTS.allowedLateness),
  idleTimeout: positiveDuration.prefault(DEFAULTS.idleTimeout),
}).transform((w) => ({ bucketMs: w.bucket, allowedLatenessMs: w.allowedLateness, idleTimeoutMs: w.idleTimeout }));

// --- SLIs -----------------------------------------------------------------------------------

/** A record field or a tracklane meta field (user_id, session_id, ...); dots reach into records. */
const contextField = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'must be a field name, dots reaching into nested records');

const sli = strictObject({
  name,
  ratio: strictObject({
    good: celExpression,
    /** Events that count at all; good is only evaluated for them. */
    total: celExpression.default('true'),
  }).optional(),
  latency: strictObject({
    field,
    /** Good when the field's value is <= threshold (same unit as the field). */
    threshold: z.number().positive(),
    filter: celExpression.optional(),
  }).optional(),
  /** A pipeline SLI (docs/tracking-slis.md); its options sit next to it. */
  builtin: z.enum(BUILTIN_TYPES as [BuiltinType, ...BuiltinType[]]).optional(),
  /** missing-context: the context fields; an entry that is a list is satisfied by any one of them. */
  fields: z.array(z.union([contextField, z.array(contextField).min(1)])).min(1).optional(),
  /** ingestion-errors: only these dead-letter reasons count as bad. */
  reasons: z.array(z.enum(DEAD_LETTER_REASONS)).min(1).optional(),
  /** delivery-latency: a duration (good when processed within it). */
  threshold: positiveDuration.optional(),
  groupBy: z.array(field).max(8, 'group by at most 8 fields').default([]),
  maxSeries: z.number().int().min(1).max(10_000).default(DEFAULTS.maxSeries),
})
  .superRefine((s, ctx) => {
    const measures = [s.ratio, s.latency, s.builtin].filter((m) => m !== undefined).length;
    if (measures !== 1) {
      ctx.addIssue({ code: 'custom', message: 'an SLI has exactly one of ratio: { good, total }, latency: { field, threshold } or builtin: <pipeline SLI>', path: ['name'] });
    }
    builtinOptionProblems(s, ctx);
    const seen = new Set<string>();
    s.groupBy.forEach((f, i) => {
      if (seen.has(f)) ctx.addIssue({ code: 'custom', message: `"${f}" is listed twice`, path: ['groupBy', i] });
      seen.add(f);
    });
  })
  .transform((s): SliSpec => {
    if (s.builtin) return { name: s.name, kind: 'builtin', builtin: builtinMeasure(s), groupBy: s.groupBy, maxSeries: s.maxSeries };
    if (s.ratio) {
      const r: RatioSli = { name: s.name, kind: 'ratio', good: s.ratio.good, total: s.ratio.total, groupBy: s.groupBy, maxSeries: s.maxSeries };
      return r;
    }
    const l = s.latency!;
    const out: LatencySli = { name: s.name, kind: 'latency', field: l.field, threshold: l.threshold, groupBy: s.groupBy, maxSeries: s.maxSeries };
    if (l.filter !== undefined) out.filter = l.filter;
    return out;
  });

/** Options each built-in takes; any other option next to `builtin:` is an error. */
const BUILTIN_OPTIONS: Record<BuiltinType, { required: Array<'fields' | 'threshold'>; allowed: Array<'fields' | 'reasons' | 'threshold'> }> = {
  'correlation-coverage': { required: [], allowed: [] },
  'trace-completeness': { required: [], allowed: [] },
  'delivery-latency': { required: ['threshold'], allowed: ['threshold'] },
  'ingestion-errors': { required: [], allowed: ['reasons'] },
  'missing-context': { required: ['fields'], allowed: ['fields'] },
};

interface SliOptions { builtin?: BuiltinType; fields?: Array<string | string[]>; reasons?: string[]; threshold?: number }

function builtinOptionProblems(s: SliOptions, ctx: z.core.$RefinementCtx): void {
  for (const option of ['fields', 'reasons', 'threshold'] as const) {
    if (s[option] === undefined) continue;
    if (s.builtin === undefined) ctx.addIssue({ code: 'custom', message: `${option} is an option of built-in SLIs (builtin: ...)`, path: [option] });
    else if (!BUILTIN_OPTIONS[s.builtin].allowed.includes(option)) ctx.addIssue({ code: 'custom', message: `builtin ${s.builtin} takes no ${option}`, path: [option] });
  }
  if (s.builtin === undefined) return;
  for (const option of BUILTIN_OPTIONS[s.builtin].required) {
    if (s[option] === undefined) ctx.addIssue({ code: 'custom', message: `builtin ${s.builtin} needs ${option}`, path: ['builtin'] });
  }
}

function builtinMeasure(s: SliOptions): BuiltinMeasure {
  switch (s.builtin!) {
    case 'delivery-latency': return { type: 'delivery-latency', thresholdMs: s.threshold! };
    case 'ingestion-errors': return s.reasons ? { type: 'ingestion-errors', reasons: s.reasons } : { type: 'ingestion-errors' };
    case 'missing-context': return { type: 'missing-context', fields: s.fields!.map((f) => (Array.isArray(f) ? f : [f])) };
    case 'correlation-coverage': return { type: 'correlation-coverage' };
    case 'trace-completeness': return { type: 'trace-completeness' };
  }
}

// --- SLOs -----------------------------------------------------------------------------------

export const GOOGLE_SRE_TIER_NAMES = googleSreTiers(30 * 86_400_000).map((t) => t.name);

const explicitTier = strictObject({
  name: z.string().min(1).max(63).optional(),
  severity: z.enum(['page', 'ticket']),
  long: positiveDuration,
  short: positiveDuration,
  threshold: z.number().positive().optional(),
  budgetFraction: z.number().gt(0).max(1).optional(),
}).superRefine((t, ctx) => {
  if ((t.threshold === undefined) === (t.budgetFraction === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'a tier has exactly one of threshold (burn rate) or budgetFraction', path: ['severity'] });
  }
  if (t.short >= t.long) ctx.addIssue({ code: 'custom', message: 'the short window must be shorter than the long window', path: ['short'] });
});
type ExplicitTier = z.output<typeof explicitTier>;

const tiers = z.unknown().transform((v, ctx): 'google-sre' | 'none' | ExplicitTier[] => {
  if (v === 'google-sre' || v === 'none') return v;
  if (Array.isArray(v)) return parseInto(z.array(explicitTier).min(1), v, ctx) ?? z.NEVER;
  ctx.addIssue({ code: 'custom', message: 'tiers is "google-sre", "none" or a list of { name?, severity, long, short, threshold | budgetFraction }' });
  return z.NEVER;
});

const alerting = strictObject({
  runbook: z.url({ error: 'runbook must be a URL' }).optional(),
  tiers: tiers.default(DEFAULTS.tiers),
  /** Names of google-sre tiers to leave out, e.g. ["6h/30m"]. */
  disable: z.array(z.string()).optional(),
});

const slo = strictObject({
  name,
  sli: name,
  objective: z.number().gt(0, 'objective is a fraction between 0 and 1, e.g. 0.999').lt(1, 'objective is a fraction between 0 and 1, e.g. 0.999'),
  period: positiveDuration.prefault(DEFAULTS.period),
  minEvents: z.number().int().min(0).default(DEFAULTS.minEvents),
  alerting: alerting.prefault({}),
}).transform((s, ctx): SloSpec => {
  const spec: SloSpec = { name: s.name, sli: s.sli, objective: s.objective, periodMs: s.period, minEvents: s.minEvents, tiers: [] };
  if (s.alerting.runbook !== undefined) spec.runbook = s.alerting.runbook;
  const { tiers: written, disable } = s.alerting;
  if (disable && written !== 'google-sre') {
    ctx.addIssue({ code: 'custom', message: 'disable only applies to tiers: google-sre', path: ['alerting', 'disable'] });
  }
  if (written === 'google-sre') {
    const off = new Set(disable ?? []);
    (disable ?? []).forEach((n, i) => {
      if (!GOOGLE_SRE_TIER_NAMES.includes(n)) {
        ctx.addIssue({ code: 'custom', message: `no google-sre tier "${n}"; the tiers are ${GOOGLE_SRE_TIER_NAMES.join(', ')}`, path: ['alerting', 'disable', i] });
      }
    });
    spec.tiers = googleSreTiers(s.period).filter((t) => !off.has(t.name));
  } else if (Array.isArray(written)) {
    spec.tiers = written.map((t, i) => explicitToTier(t, i, s.period, s.objective, ctx));
    const seen = new Set<string>();
    spec.tiers.forEach((t, i) => {
      if (seen.has(t.name)) ctx.addIssue({ code: 'custom', message: `two tiers are named "${t.name}"; give them distinct names`, path: ['alerting', 'tiers', i] });
      seen.add(t.name);
    });
  }
  return spec;
});

function explicitToTier(t: ExplicitTier, i: number, periodMs: number, objective: number, ctx: z.core.$RefinementCtx): BurnRateTier {
  const at = (k: string) => ['alerting', 'tiers', i, k];
  if (t.long > periodMs) ctx.addIssue({ code: 'custom', message: `the long window (${formatDuration(t.long)}) is longer than the SLO period (${formatDuration(periodMs)})`, path: at('long') });
  const threshold = t.threshold ?? ((t.budgetFraction ?? 0) * periodMs) / t.long;
  // A burn rate is the error ratio divided by (1 - objective); it cannot exceed 1 / (1 - objective).
  const maxBurn = 1 / (1 - objective);
  if (threshold > maxBurn) {
    ctx.addIssue({
      code: 'custom',
      message: `burn-rate threshold ${round(threshold)} can never be reached: with objective ${objective} the highest burn rate is ${round(maxBurn)}`,
      path: at(t.threshold !== undefined ? 'threshold' : 'budgetFraction'),
    });
  }
  return {
    name: t.name ?? `${formatDuration(t.long)}/${formatDuration(t.short)}`,
    severity: t.severity,
    longWindowMs: t.long,
    shortWindowMs: t.short,
    threshold,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

// --- the document ---------------------------------------------------------------------------

export const topologySchema = strictObject({
  apiVersion: z.literal('tracklane/v1'),
  kind: z.literal('Topology'),
  metadata: strictObject({
    name,
    version: z.number().int().min(1),
  }),
  spec: strictObject({
    delivery: z.enum(['exactly-once', 'at-least-once']).default(DEFAULTS.delivery),
    sources: z.array(source).min(1, 'a topology has at least one source'),
    enrich: z.array(enrichEntry).default([]),
    dedupe: dedupe.optional(),
    outputs,
    windows: windows.prefault({}),
    slis: z.array(sli).default([]),
    slos: z.array(slo).default([]),
  }),
});

export type TopologyDocument = z.output<typeof topologySchema>;

// The topology document (docs/topology.md, DESIGN.md section 5) as one zod schema. Objects are
// strict: an unknown field is an error, not silently ignored. Durations come out as
// milliseconds, steps/SLIs/SLOs in the shapes of ./types. Checks that span several parts of the
// document (names that refer to each other, topics, schema files) live in ./semantic.ts.

import { z } from 'zod';
import { googleSreTiers } from './tiers';
import type { BurnRateTier, LatencySli, RatioSli, SliSpec, SloSpec } from './types';
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
  groupBy: z.array(field).max(8, 'group by at most 8 fields').default([]),
  maxSeries: z.number().int().min(1).max(10_000).default(DEFAULTS.maxSeries),
})
  .superRefine((s, ctx) => {
    if ((s.ratio === undefined) === (s.latency === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'an SLI has exactly one of ratio: { good, total } or latency: { field, threshold }', path: ['name'] });
    }
    const seen = new Set<string>();
    s.groupBy.forEach((f, i) => {
      if (seen.has(f)) ctx.addIssue({ code: 'custom', message: `"${f}" is listed twice`, path: ['groupBy', i] });
      seen.add(f);
    });
  })
  .transform((s): SliSpec => {
    if (s.ratio) {
      const r: RatioSli = { name: s.name, kind: 'ratio', good: s.ratio.good, total: s.ratio.total, groupBy: s.groupBy, maxSeries: s.maxSeries };
      return r;
    }
    const l = s.latency!;
    const out: LatencySli = { name: s.name, kind: 'latency', field: l.field, threshold: l.threshold, groupBy: s.groupBy, maxSeries: s.maxSeries };
    if (l.filter !== undefined) out.filter = l.filter;
    return out;
  });

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

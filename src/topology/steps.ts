// The enrichment steps a topology may name, with the schema of their options. The loader looks
// step names up here, so an unknown step or a bad option fails at load time with its position.
// The step implementations (src/enrich/<step>.ts) are created from the loaded EnrichStep.

import { z } from 'zod';
import type { ConsentStep, CorrelationStep, EnrichStep, EnrichStepKind, IdentityStep, PiiKind, PiiScanStep, PseudonymizeStep, SessionStep } from './types';
import { field, positiveDuration, strictObject } from './primitives';
import { sampleOptions } from './sample-options';

export interface StepDefinition {
  readonly name: EnrichStepKind;
  readonly summary: string;
  readonly optionsSchema: z.ZodType<EnrichStep>;
}

/** Placeholder ids that never identify a person; compared trimmed and case-insensitively. */
export const DEFAULT_BLOCKED_IDS: readonly string[] = ['', 'null', 'undefined', '0', 'anonymous', 'none', 'nan'];

const correlation = strictObject({
  field: field.optional(),
  header: z.string().min(1).default('traceparent'),
  generate: z.boolean().default(true),
}).transform((o): CorrelationStep => {
  const step: CorrelationStep = { kind: 'correlation', header: o.header, generate: o.generate };
  if (o.field !== undefined) step.field = o.field;
  return step;
});

const identity = strictObject({
  anonymousId: field,
  userId: field,
  ttl: positiveDuration.prefault('90d'),
  maxUsersPerAnonymousId: z.number().int().min(1).max(1000).default(5),
  blockedValues: z.array(z.string()).default([...DEFAULT_BLOCKED_IDS]),
}).transform(
  (o): IdentityStep => ({
    kind: 'identity',
    anonymousId: o.anonymousId,
    userId: o.userId,
    ttlMs: o.ttl,
    maxUsersPerAnonymousId: o.maxUsersPerAnonymousId,
    blockedValues: o.blockedValues,
  }),
);

const session = strictObject({
  by: z.array(field).min(1, 'name at least one field to key sessions by'),
  gap: positiveDuration.prefault('30m'),
  maxSessionsPerKey: z.number().int().min(1).max(100_000).default(1000),
}).transform((o): SessionStep => ({ kind: 'session', by: o.by, gapMs: o.gap, maxSessionsPerKey: o.maxSessionsPerKey }));

const pseudonymize = strictObject({
  fields: z.array(field).min(1, 'name at least one field to pseudonymize'),
}).transform((o): PseudonymizeStep => ({ kind: 'pseudonymize', fields: o.fields }));

const consent = strictObject({
  field: field,
  whenDenied: z.enum(['strip', 'drop', 'deadletter']).default('strip'),
  fields: z.array(field).optional(),
}).transform((o): ConsentStep => {
  const step: ConsentStep = { kind: 'consent', field: o.field, whenDenied: o.whenDenied };
  if (o.fields) step.fields = o.fields;
  return step;
});

export const PII_KINDS: readonly PiiKind[] = ['email', 'ip', 'phone', 'card', 'secret'];

const piiScan = strictObject({
  fields: z.array(field).min(1, 'name at least one field to scan, or leave fields out to scan every field').optional(),
  except: z.array(field).default([]),
  kinds: z.array(z.enum(PII_KINDS as [PiiKind, ...PiiKind[]])).min(1, 'name at least one kind').default([...PII_KINDS]),
  action: z.enum(['count', 'pseudonymize', 'deadletter']).default('count'),
}).transform((o): PiiScanStep => {
  const step: PiiScanStep = { kind: 'pii-scan', except: o.except, kinds: [...new Set(o.kinds)], action: o.action };
  if (o.fields) step.fields = o.fields;
  return step;
});

export const ENRICH_STEPS: readonly StepDefinition[] = Object.freeze([
  { name: 'correlation', summary: 'correlation id from a field, a W3C traceparent header, or generated', optionsSchema: correlation },
  { name: 'identity', summary: 'stitches anonymous ids to user ids (Redis)', optionsSchema: identity },
  { name: 'session', summary: 'session ids from an inactivity gap (Redis)', optionsSchema: session },
  { name: 'pseudonymize', summary: 'replaces personal fields with keyed HMAC-SHA256 (kid:hex)', optionsSchema: pseudonymize },
  { name: 'consent', summary: 'strips, drops or dead-letters events whose consent field denies', optionsSchema: consent },
  { name: 'pii-scan', summary: 'finds e-mails, IPs, phones, card numbers and secrets in fields not declared personal', optionsSchema: piiScan },
  { name: 'sample', summary: 'keeps events matching `keep`, the rest with probability `rate` (whole traces together)', optionsSchema: sampleOptions },
]);

export function findStep(name: string): StepDefinition | undefined {
  return ENRICH_STEPS.find((s) => s.name === name);
}

export const KNOWN_STEP_NAMES = ENRICH_STEPS.map((s) => s.name);

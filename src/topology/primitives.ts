// Building blocks shared by the topology schema and the enrichment step registry.

import { z } from 'zod';
import { parseDuration } from './duration';
import { CelCompileError, compileCel } from '../expr/cel';

/** Lower-case names used in topic keys, metric labels and Redis keys. */
export const NAME_PATTERN = /^[a-z0-9-]+$/;
export const name = z
  .string()
  .max(63, 'names are at most 63 characters')
  .regex(NAME_PATTERN, 'must match [a-z0-9-]+ (lower-case letters, digits, dashes)');

/** A top-level field of the event record (an Avro field name, also a CEL identifier). */
export const FIELD_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const field = z.string().regex(FIELD_PATTERN, 'must be a field name matching [A-Za-z_][A-Za-z0-9_]*');

/** Kafka's legal topic characters; 249 is Kafka's length limit. */
export const topic = z
  .string()
  .min(1)
  .max(249)
  .regex(/^[A-Za-z0-9._-]+$/, 'a Kafka topic name uses only letters, digits, ".", "_" and "-"')
  .refine((t) => t !== '.' && t !== '..', 'a Kafka topic cannot be "." or ".."');

/** "30s", "1h30m", ... -> milliseconds. */
export const duration = z.string({ error: 'expected a duration string such as 30s, 5m or 1h30m' }).transform((text, ctx) => {
  try {
    return parseDuration(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

export const positiveDuration = duration.refine((ms) => ms > 0, 'must be longer than 0');

/**
 * A CEL condition, compiled here so a syntax error is reported at load time. The issue carries
 * the offset inside the expression (params.celOffset) so the loader can point at the column.
 */
export const celExpression = z.string().transform((source, ctx) => {
  try {
    compileCel(source);
  } catch (err) {
    if (!(err instanceof CelCompileError)) throw err;
    ctx.addIssue({ code: 'custom', message: `CEL: ${err.summary}`, params: { celOffset: err.offset } });
    return z.NEVER;
  }
  return source;
});

/**
 * A strict object (unknown fields are errors) whose unknown-field message lists the known fields;
 * the loader turns it into one message per unknown key.
 */
export function strictObject<S extends z.core.$ZodLooseShape>(shape: S) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `known fields: ${known}` : undefined),
  });
}

/**
 * Parses `value` with `schema` from inside a transform, re-adding its issues under `prefix` so
 * their paths still point into the YAML. Returns undefined when it failed.
 */
export function parseInto<T>(schema: z.ZodType<T>, value: unknown, ctx: z.core.$RefinementCtx, prefix: PropertyKey[] = []): T | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    ctx.addIssue({ ...(issue as z.core.$ZodIssue), path: [...prefix, ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
  }
  return undefined;
}

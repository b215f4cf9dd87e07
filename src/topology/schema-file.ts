// `schema:` files named by sources: they must exist (relative to the topology file's folder),
// parse, and hold every field the topology refers to. Catching a typo in a field name here
// saves a run that dead-letters every event. The SLIs' CEL expressions are type-checked
// against the file's fields (./expressions.ts). Sources without a schema file (the schema
// lives only in the registry) are checked at run time instead.

import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { avroVariables, jsonSchemaVariables, type CelVariables } from '../expr/schema-types';
import { expressionRefsOfDocument, expressionTypeProblems } from './expressions';
import type { Problem } from './semantic';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

interface FieldRef {
  path: PropertyKey[];
  field: string;
}

export function schemaFileProblems(doc: unknown, baseDir: string): Problem[] {
  const problems: Problem[] = [];
  const spec = isRec(doc) && isRec(doc.spec) ? doc.spec : undefined;
  if (!spec) return problems;
  const shared = sharedFieldRefs(spec);
  const expressions = expressionRefsOfDocument(doc);
  list(spec.sources).forEach((source, i) => {
    if (!isRec(source) || typeof source.schema !== 'string' || source.schema === '') return;
    const at: PropertyKey[] = ['spec', 'sources', i, 'schema'];
    const written = source.schema;
    const file = path.resolve(baseDir, written);
    let text: string;
    try {
      if (!fs.statSync(file).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? (err as Error).message})`;
      problems.push({ path: at, message: `schema file "${written}" ${why}; paths are relative to the topology file's folder` });
      return;
    }
    const name = typeof source.name === 'string' ? source.name : `#${i}`;
    const parsed = schemaFields(text, source.format === 'json-schema' ? 'json-schema' : 'avro', `source "${name}" (${written})`, (message) =>
      problems.push({ path: at, message: `schema file "${written}": ${message}` }),
    );
    if (!parsed) return;
    const { fields, variables } = parsed;
    const refs: FieldRef[] = [...shared];
    for (const key of ['idempotencyKey'] as const) if (typeof source[key] === 'string') refs.push({ path: ['spec', 'sources', i, key], field: source[key] as string });
    if (isRec(source.eventTime) && typeof source.eventTime.field === 'string') refs.push({ path: ['spec', 'sources', i, 'eventTime', 'field'], field: source.eventTime.field });
    for (const ref of refs) {
      if (!fields.has(ref.field)) problems.push({ path: ref.path, message: `field "${ref.field}" is not in the schema of source "${name}" (${written})` });
    }
    if (variables) problems.push(...expressionTypeProblems(expressions, variables));
  });
  return problems;
}

/**
 * Top-level field names of the schema and the CEL variables they make (only a JSON Schema
 * with properties has them), or undefined when it cannot be used (reported).
 */
function schemaFields(
  text: string,
  format: 'avro' | 'json-schema',
  describe: string,
  report: (m: string) => void,
): { fields: Set<string>; variables?: CelVariables } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    report(`not valid JSON: ${(err as Error).message}`);
    return undefined;
  }
  if (format === 'json-schema') {
    return isRec(json) && isRec(json.properties) ? { fields: new Set(Object.keys(json.properties)), variables: jsonSchemaVariables(json, describe) } : undefined;
  }
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(json as avro.Schema);
  } catch (err) {
    report(`not a valid Avro schema: ${(err as Error).message}`);
    return undefined;
  }
  if (!(type instanceof avro.types.RecordType)) {
    report('the Avro schema of an event must be a record');
    return undefined;
  }
  return { fields: new Set(type.fields.map((f) => f.name)), variables: avroVariables(type, describe) };
}

/** Fields named by steps and SLIs: every source's records must have them. */
function sharedFieldRefs(spec: Rec): FieldRef[] {
  const refs: FieldRef[] = [];
  const add = (p: PropertyKey[], v: unknown) => {
    if (typeof v === 'string') refs.push({ path: p, field: v });
  };
  const addAll = (p: PropertyKey[], v: unknown) => list(v).forEach((f, j) => add([...p, j], f));
  list(spec.enrich).forEach((entry, i) => {
    if (!isRec(entry) || Object.keys(entry).length !== 1) return;
    const [step, opts] = Object.entries(entry)[0];
    if (!isRec(opts)) return;
    const at = (k: string): PropertyKey[] => ['spec', 'enrich', i, step, k];
    if (step === 'correlation' || step === 'consent') add(at('field'), opts.field);
    if (step === 'identity') {
      add(at('anonymousId'), opts.anonymousId);
      add(at('userId'), opts.userId);
    }
    if (step === 'session') addAll(at('by'), opts.by);
    if (step === 'pseudonymize' || step === 'consent') addAll(at('fields'), opts.fields);
    if (step === 'pii-scan') ['fields', 'except'].forEach((k) => addAll(at(k), opts[k]));
  });
  list(spec.slis).forEach((sli, i) => {
    if (!isRec(sli)) return;
    addAll(['spec', 'slis', i, 'groupBy'], sli.groupBy);
    if (isRec(sli.latency)) add(['spec', 'slis', i, 'latency', 'field'], sli.latency.field);
  });
  if (isRec(spec.dedupe)) add(['spec', 'dedupe', 'key'], spec.dedupe.key);
  return refs;
}

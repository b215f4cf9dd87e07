// Producer contract checks (`tracklane contract`): whether events written with an Avro schema
// still work for a topology. Pure functions over parsed schemas and a loaded topology, so the
// command only fetches schemas and prints what these return.
//
// Three questions, one per kind of breakage a producer can cause:
//   readable  the reader schema resolves the writer schema (Avro schema resolution, as the
//             decode stage does it): a field dropped without a reader default, a type changed
//             beyond promotion, or a renamed record breaks every event with SCHEMA_MISMATCH;
//   keyed     the idempotency key and the event time are written, with types the validate
//             stage accepts; a reader default would give every event the same key or time;
//   fields    every field a step or an SLI names is in the schema with a type its step can use,
//             and the SLIs' CEL expressions type-check against it.

import avro from 'avsc';
import { avroVariables } from '../expr/schema-types';
import { expressionRefs, expressionTypeProblems } from './expressions';
import { formatPath } from './report';
import type { SourceSpec, Topology } from './types';

/** An Avro schema as registered or written in a file: its JSON (for logical types, which avsc drops) and its type. */
export interface ContractSchema {
  /** Names it in messages: `raw.checkout-value v3` or a file name. */
  label: string;
  raw: Record<string, unknown>;
  type: avro.types.RecordType;
}

/** Parses Avro schema text; throws an Error saying why it cannot be used. */
export function parseContractSchema(text: string, label: string): ContractSchema {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON: ${(err as Error).message}`);
  }
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(raw as avro.Schema);
  } catch (err) {
    throw new Error(`not a valid Avro schema: ${(err as Error).message}`);
  }
  if (!(type instanceof avro.types.RecordType)) throw new Error('the Avro schema of an event must be a record');
  return { label, raw: raw as Record<string, unknown>, type };
}

/** Problems reading events written with `writer` through `reader`; empty when it resolves. */
export function readabilityProblems(reader: ContractSchema, writer: ContractSchema): string[] {
  try {
    reader.type.createResolver(writer.type);
    return [];
  } catch (err) {
    const why = fieldResolutionProblems(reader.type, writer.type);
    return [`cannot be read with the reader schema (${reader.label}): ${why.length > 0 ? why.join('; ') : firstLine((err as Error).message)}`];
  }
}

/** Which top-level fields keep a writer from resolving (avsc's own message does not name them). */
function fieldResolutionProblems(reader: avro.types.RecordType, writer: avro.types.RecordType): string[] {
  const problems: string[] = [];
  for (const field of reader.fields) {
    const names = [field.name, ...field.aliases];
    const written = writer.fields.find((w) => names.includes(w.name));
    if (!written) {
      if (field.defaultValue() === undefined) problems.push(`field "${field.name}" is not written and the reader has no default for it`);
      continue;
    }
    try {
      field.type.createResolver(written.type);
    } catch {
      problems.push(`field "${field.name}" is written as ${typeLabel(written.type)} and read as ${typeLabel(field.type)}`);
    }
  }
  return problems;
}

const typeLabel = (t: avro.Type): string => JSON.stringify(t.schema());

/**
 * Fields the engine needs from every event that `writer` does not write, although `reader`
 * fills them with a default: the idempotency key and the event time. (Other fields may come
 * and go with defaults; that is ordinary schema evolution.)
 */
export function unwrittenKeyProblems(source: SourceSpec, reader: ContractSchema, writer: ContractSchema): string[] {
  const written = new Set(writer.type.fields.map((f) => f.name));
  const problems: string[] = [];
  for (const [what, name] of [['idempotency key', source.idempotencyKey], ['event time', source.eventTime.field]] as const) {
    const inReader = reader.type.fields.find((f) => f.name === name);
    // Without a default the reader cannot resolve the writer at all: readabilityProblems says so.
    if (!inReader || inReader.defaultValue() === undefined) continue;
    if (!written.has(name) && !inReader.aliases.some((a) => written.has(a))) {
      problems.push(`does not write ${what} field "${name}"; every event would get the reader's default and be ${what === 'event time' ? 'dead-lettered or misplaced in time' : 'deduplicated against each other'}`);
    }
  }
  return problems;
}

/** A top-level field's type as the pipeline sees it: nullable unions unwrapped, logical type from the JSON. */
interface FieldShape {
  /** Avro type name of the non-null branch (`string`, `long`, `union` for other unions...). */
  typeName: string;
  nullable: boolean;
  logicalType?: string;
}

function fieldShapes(schema: ContractSchema): Map<string, FieldShape> {
  const rawFields = Array.isArray(schema.raw.fields) ? (schema.raw.fields as { name?: unknown; type?: unknown }[]) : [];
  const shapes = new Map<string, FieldShape>();
  for (const field of schema.type.fields) {
    let type = field.type;
    let nullable = false;
    let rawType = rawFields.find((f) => f.name === field.name)?.type;
    if (type instanceof avro.types.UnwrappedUnionType || type instanceof avro.types.WrappedUnionType) {
      const branches = type.types.filter((t) => t.typeName !== 'null');
      nullable = branches.length < type.types.length;
      if (branches.length !== 1) {
        shapes.set(field.name, { typeName: 'union', nullable });
        continue;
      }
      type = branches[0];
      rawType = Array.isArray(rawType) ? rawType.find((t) => t !== 'null') : undefined;
    }
    const logicalType = isRec(rawType) && typeof rawType.logicalType === 'string' ? rawType.logicalType : undefined;
    shapes.set(field.name, { typeName: type.typeName, nullable, logicalType });
  }
  return shapes;
}

const describeShape = (s: FieldShape): string => `${s.nullable ? 'nullable ' : ''}${s.typeName}${s.logicalType ? ` (${s.logicalType})` : ''}`;

/** Why a shape cannot be the idempotency key (validate takes strings and numbers, keyed by their text). */
function keyTypeProblem(s: FieldShape): string | undefined {
  if (!['string', 'int', 'long'].includes(s.typeName)) return 'needs string, int or long';
  if (s.nullable) return 'must not be nullable: events without a key are dead-lettered as MISSING_IDEMPOTENCY_KEY';
  return undefined;
}

/** Why a shape cannot be the event time (epoch milliseconds as a number, or a date string). */
function eventTimeTypeProblem(s: FieldShape): string | undefined {
  if (s.logicalType !== undefined && /micros|^time-|^date$/.test(s.logicalType)) return `needs epoch milliseconds, not ${s.logicalType}`;
  if (s.typeName === 'int') return 'int cannot hold epoch milliseconds; use long (timestamp-millis)';
  if (s.typeName === 'float') return 'float loses milliseconds; use long (timestamp-millis)';
  if (!['long', 'double', 'string'].includes(s.typeName)) return 'needs long (timestamp-millis), double or an ISO-8601 string';
  if (s.nullable) return 'must not be nullable: events without a time are dead-lettered as EVENT_TIME_INVALID';
  return undefined;
}

type Need = 'any' | 'string' | 'id' | 'number';
const NEEDS: Record<Exclude<Need, 'any'>, { types: string[]; say: string }> = {
  string: { types: ['string'], say: 'a string' },
  id: { types: ['string', 'int', 'long'], say: 'a string, int or long' },
  number: { types: ['int', 'long', 'float', 'double'], say: 'a number' },
};

interface FieldUse { field: string; where: string; need: Need }

/** Every top-level field a step or an SLI names, with the type its use requires. */
export function fieldUses(topology: Topology): FieldUse[] {
  const uses: FieldUse[] = [];
  const add = (field: string | undefined, where: string, need: Need = 'any') => {
    if (field !== undefined) uses.push({ field, where, need });
  };
  topology.enrich.forEach((step, i) => {
    const at = (key: string) => `spec.enrich[${i}].${step.kind}.${key}`;
    switch (step.kind) {
      case 'correlation': add(step.field, at('field'), 'string'); break;
      case 'identity': add(step.anonymousId, at('anonymousId'), 'string'); add(step.userId, at('userId'), 'string'); break;
      case 'session': step.by.forEach((f, j) => add(f, `${at('by')}[${j}]`, 'id')); break;
      case 'pseudonymize': step.fields.forEach((f, j) => add(f, `${at('fields')}[${j}]`)); break;
      case 'consent':
        add(step.field, at('field'));
        step.fields?.forEach((f, j) => add(f, `${at('fields')}[${j}]`));
        break;
      case 'pii-scan':
        step.fields?.forEach((f, j) => add(f, `${at('fields')}[${j}]`));
        step.except.forEach((f, j) => add(f, `${at('except')}[${j}]`));
        break;
    }
  });
  topology.slis.forEach((sli, i) => {
    sli.groupBy.forEach((f, j) => add(f, `spec.slis[${i}].groupBy[${j}]`));
    // A dotted latency field reads inside a record: its top-level field must exist; only a flat one has a checkable type.
    if (sli.kind === 'latency') add(sli.field.split('.')[0], `spec.slis[${i}].latency.field`, sli.field.includes('.') ? 'any' : 'number');
  });
  // dedupe.key is not listed: the loader holds it equal to every source's idempotency key.
  return uses;
}

/**
 * What the topology needs from the fields of `schema` when events of `source` are decoded
 * with it: key and event time usable, every named field present with a usable type, every
 * CEL expression type-checks.
 */
export function fieldProblems(topology: Topology, source: SourceSpec, schema: ContractSchema): string[] {
  const shapes = fieldShapes(schema);
  const problems: string[] = [];
  const check = (field: string, what: string, typeProblem: (s: FieldShape) => string | undefined) => {
    const shape = shapes.get(field);
    if (!shape) return problems.push(`${what} field "${field}" is missing`);
    const why = typeProblem(shape);
    if (why) problems.push(`${what} field "${field}" is ${describeShape(shape)}: ${why}`);
  };
  check(source.idempotencyKey, 'idempotency key', keyTypeProblem);
  check(source.eventTime.field, 'event time', eventTimeTypeProblem);
  const reported = new Set<string>();
  for (const use of fieldUses(topology)) {
    const shape = shapes.get(use.field);
    if (!shape) {
      // One line per missing field, naming its first use.
      if (!reported.has(use.field)) problems.push(`field "${use.field}" named by ${use.where} is missing`);
      reported.add(use.field);
      continue;
    }
    if (use.need === 'any') continue;
    const need = NEEDS[use.need];
    if (!need.types.includes(shape.typeName)) problems.push(`field "${use.field}" named by ${use.where} is ${describeShape(shape)}; it needs ${need.say}`);
  }
  const vars = avroVariables(schema.type, schema.label);
  for (const ref of expressionRefs(topology)) {
    for (const p of expressionTypeProblems([ref], vars)) problems.push(`${formatPath(p.path)} ${JSON.stringify(ref.source)}: ${p.message}`);
  }
  return problems;
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const firstLine = (s: string): string => s.split('\n')[0];

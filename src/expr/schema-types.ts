// What a CEL expression may name on an event, derived from the source's reader schema: each
// top-level field with the CEL type its decoded value has at run time.
//
// The types describe values as the engine hands them to CEL, not as Avro names them: avsc
// decodes int, long, float and double to JS numbers, which cel-js treats as CEL doubles, so all
// Avro numbers are `double` here. Declaring them `int` would accept `code % 100` (int-only in
// CEL) and then fail on every event. Comparisons and + - * / still mix with int literals
// (`duration_ms <= 300`), see ./type-check.ts.
//   string, enum -> string        boolean -> bool          bytes, fixed -> bytes
//   int, long, float, double -> double                     array -> list<item>
//   map -> map<string, values>    record -> map<string, dyn>
//   ["null", T] -> T (null comparisons are allowed)         other unions -> dyn

import avro from 'avsc';

export interface CelVariables {
  /** Top-level field -> CEL type name (`string`, `list<double>`, `dyn`...). */
  readonly fields: ReadonlyMap<string, string>;
  /** True when an event cannot carry other fields, so an unknown name is an error (Avro). */
  readonly closed: boolean;
  /** Names the schema in messages, e.g. `source "web" (schemas/checkout.avsc)`. */
  readonly describe: string;
}

/** Variables of an Avro record schema (a parsed JSON schema object or an avsc Type). */
export function avroVariables(schema: avro.Schema | avro.Type, describe: string): CelVariables {
  const type = avro.Type.isType(schema) ? (schema as avro.Type) : avro.Type.forSchema(schema as avro.Schema);
  if (!(type instanceof avro.types.RecordType)) throw new Error('the Avro schema of an event must be a record');
  return { fields: new Map(type.fields.map((f) => [f.name, celTypeOfAvro(f.type)])), closed: true, describe };
}

function celTypeOfAvro(type: avro.Type, depth = 0): string {
  if (depth > 8) return 'dyn';
  if (type instanceof avro.types.LogicalType) return celTypeOfAvro(type.underlyingType, depth);
  switch (type.typeName) {
    case 'string':
    case 'enum':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return 'double';
    case 'bytes':
    case 'fixed':
      return 'bytes';
    case 'array':
      return `list<${celTypeOfAvro((type as avro.types.ArrayType).itemsType, depth + 1)}>`;
    case 'map':
      return `map<string, ${celTypeOfAvro((type as avro.types.MapType).valuesType, depth + 1)}>`;
    case 'record':
    case 'error':
      return 'map<string, dyn>';
    case 'union:unwrapped':
    case 'union:wrapped': {
      const branches = (type as avro.types.UnwrappedUnionType).types.filter((t) => t.typeName !== 'null');
      return branches.length === 1 ? celTypeOfAvro(branches[0], depth + 1) : 'dyn';
    }
    default:
      return 'dyn';
  }
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Variables of a JSON Schema object. Unknown names are errors only when the schema forbids
 * other properties (`additionalProperties: false`); otherwise an event may carry them.
 */
export function jsonSchemaVariables(schema: Rec, describe: string): CelVariables {
  const properties = isRec(schema.properties) ? schema.properties : {};
  const fields = new Map<string, string>();
  for (const [name, prop] of Object.entries(properties)) fields.set(name, celTypeOfJson(prop));
  return { fields, closed: schema.additionalProperties === false, describe };
}

function celTypeOfJson(prop: unknown): string {
  if (!isRec(prop)) return 'dyn';
  const types = (Array.isArray(prop.type) ? prop.type : [prop.type]).filter((t) => t !== 'null');
  if (types.length !== 1) return 'dyn';
  switch (types[0]) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'double';
    case 'boolean':
      return 'bool';
    case 'array':
      return 'list<dyn>';
    case 'object':
      return 'map<string, dyn>';
    default:
      return 'dyn';
  }
}

/** A reader schema as the engine loads it from the registry (structurally: src/decode/reader.ts). */
export type LoadedReaderSchema = { kind: 'avro'; type: avro.Type } | { kind: 'json'; schema: Record<string, unknown> };

export function readerVariables(reader: LoadedReaderSchema, describe: string): CelVariables {
  return reader.kind === 'avro' ? avroVariables(reader.type, describe) : jsonSchemaVariables(reader.schema, describe);
}

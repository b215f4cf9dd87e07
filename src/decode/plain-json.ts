import type avro from 'avsc';
import { DataError } from '../errors';

/**
 * Plain JSON as a person writes it <-> avsc values. Unions are unwrapped, bytes are base64,
 * `timestamp-millis` accepts epoch ms or an ISO-8601 string, missing fields take defaults.
 */
export function fromPlainJson(schema: avro.Schema, value: unknown, path = ''): unknown {
  if (typeof schema === 'string') return primitive(schema, value, path);
  if (Array.isArray(schema)) return union(schema as avro.Schema[], value, path);
  const s = schema as { type: string; logicalType?: string; fields?: Array<{ name: string; type: avro.Schema }>; items?: avro.Schema; values?: avro.Schema };
  if (s.logicalType === 'timestamp-millis' && value instanceof Date) return value.getTime(); // the SDK's typed events may carry Dates
  if (s.logicalType === 'timestamp-millis' && typeof value === 'string') {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new DataError('VALIDATION_FAILED', `${path || '/'}: "${value}" is not an ISO-8601 time`, path || '/');
    return ms;
  }
  switch (s.type) {
    case 'record':
    case 'error': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new DataError('VALIDATION_FAILED', `${path || '/'}: expected an object`, path || '/');
      }
      const input = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const field of s.fields ?? []) {
        if (field.name in input) out[field.name] = fromPlainJson(field.type, input[field.name], `${path}/${field.name}`);
      }
      return out;
    }
    case 'array':
      if (!Array.isArray(value)) throw new DataError('VALIDATION_FAILED', `${path || '/'}: expected an array`, path || '/');
      return value.map((v, i) => fromPlainJson(s.items!, v, `${path}/${i}`));
    case 'map': {
      if (typeof value !== 'object' || value === null) throw new DataError('VALIDATION_FAILED', `${path || '/'}: expected an object`, path || '/');
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromPlainJson(s.values!, v, `${path}/${k}`)]));
    }
    default:
      return primitive(s.type, value, path);
  }
}

function primitive(type: string, value: unknown, path: string): unknown {
  if ((type === 'bytes' || type === 'fixed') && typeof value === 'string') return Buffer.from(value, 'base64');
  return value;
}

function union(branches: avro.Schema[], value: unknown, path: string): unknown {
  if (value === null || value === undefined) return null;
  for (const branch of branches) {
    if (branch === 'null') continue;
    // The first branch the value converts to wins; avsc checks the result when encoding.
    try {
      return fromPlainJson(branch, value, path);
    } catch {
      /* try the next branch */
    }
  }
  return value;
}

/** avsc value -> plain JSON: Buffers as base64, everything else as it is. */
export function toPlainJson(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlainJson(v);
    return out;
  }
  return value;
}

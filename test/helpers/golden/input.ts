import fs from 'node:fs';

// input.jsonl of a golden case (test/topologies/README.md): one JSON object per line, each
// an input record or a directive. Blank lines and lines starting with '#' are comments.

/** The bytes of one input record, as the case file describes them. */
export interface InputRecord {
  /** 1-based line in input.jsonl, for messages. */
  line: number;
  /** Source name in the topology; default the first source. */
  source?: string;
  /** Input partition; default 0. */
  partition?: number;
  /** Message key; default the value's idempotency-key field (null when it has none). */
  key?: string | null;
  headers?: Record<string, string | { base64: string }>;
  /** Plain JSON encoded with the writer schema; null sends a tombstone. */
  value?: Record<string, unknown> | null;
  /** Strings of this many 'x' set into `value` (large events without large files). */
  fill?: Record<string, number>;
  /** The exact value bytes (no wire header added). */
  valueBase64?: string;
  /** Payload bytes put behind the wire header of the writer schema (or `schemaId`). */
  payloadBase64?: string;
  /** Writer schema file in the case folder; default the source's `schema`. */
  schema?: string;
  /** Registry subject `schema` is registered under; default the source's subject. */
  subject?: string;
  /** Schema id written into the wire header instead of the writer schema's. */
  schemaId?: number;
}

export type InputStep = { kind: 'record'; record: InputRecord } | { kind: 'wait'; line: number };

const RECORD_FIELDS = new Set(['source', 'partition', 'key', 'headers', 'value', 'fill', 'valueBase64', 'payloadBase64', 'schema', 'subject', 'schemaId']);
const DEFAULT_FIELDS = new Set(['source', 'partition', 'headers', 'schema', 'subject']);

export class InputError extends Error {}

/**
 * Lines in order. `{"$defaults": {...}}` sets fields for the lines after it (schema,
 * subject, partition, headers, source); `{"$wait": "committed"}` makes the runner wait
 * until the engine committed every record sent so far (a batch boundary: late events).
 */
export function parseInput(file: string): InputStep[] {
  const steps: InputStep[] = [];
  let defaults: Partial<InputRecord> = {};
  fs.readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
    const line = i + 1;
    const where = `${file}:${line}`;
    if (text.trim() === '' || text.trimStart().startsWith('#')) return;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      throw new InputError(`${where}: not JSON: ${(err as Error).message}`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new InputError(`${where}: expected a JSON object`);
    if ('$wait' in obj) {
      if (obj.$wait !== 'committed' || Object.keys(obj).length !== 1) throw new InputError(`${where}: the only wait is {"$wait": "committed"}`);
      steps.push({ kind: 'wait', line });
      return;
    }
    if ('$defaults' in obj) {
      const d = obj.$defaults as Record<string, unknown>;
      const bad = Object.keys(d ?? {}).filter((k) => !DEFAULT_FIELDS.has(k));
      if (Object.keys(obj).length !== 1 || bad.length) throw new InputError(`${where}: $defaults takes only ${[...DEFAULT_FIELDS].join(', ')}`);
      defaults = { ...defaults, ...d };
      return;
    }
    const unknown = Object.keys(obj).filter((k) => !RECORD_FIELDS.has(k));
    if (unknown.length) throw new InputError(`${where}: unknown field ${unknown.join(', ')}; allowed: ${[...RECORD_FIELDS].join(', ')}`);
    const bodies = ['value', 'valueBase64', 'payloadBase64'].filter((k) => k in obj);
    if (bodies.length !== 1) throw new InputError(`${where}: give exactly one of value, valueBase64, payloadBase64`);
    if (obj.value !== undefined && obj.value !== null && (typeof obj.value !== 'object' || Array.isArray(obj.value))) {
      throw new InputError(`${where}: value must be a JSON object or null`);
    }
    steps.push({ kind: 'record', record: { ...defaults, ...(obj as Partial<InputRecord>), line } });
  });
  return steps;
}

/** Where a record's writer schema comes from: a file of the case and the subject it is registered under. */
export interface WriterRef {
  schema: string;
  subject: string;
}

/** Writer schemas in order of first use (the order they are registered in: versions 1, 2, ...). */
export function writerSchemas(steps: InputStep[], writerOf: (r: InputRecord) => WriterRef | undefined): WriterRef[] {
  const seen = new Map<string, WriterRef>();
  for (const s of steps) {
    if (s.kind !== 'record' || s.record.valueBase64 !== undefined) continue;
    const ref = writerOf(s.record);
    if (ref && !seen.has(`${ref.subject}\n${ref.schema}`)) seen.set(`${ref.subject}\n${ref.schema}`, ref);
  }
  return [...seen.values()];
}

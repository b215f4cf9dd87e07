import path from 'node:path';
import avro from 'avsc';
import type { Message } from 'kafkajs';
import { fromPlainJson } from '../../../src/decode/plain-json';
import type { Registry } from '../../../src/decode/registry';
import { writeWireFrame } from '../../../src/decode/wire';
import type { SourceSpec } from '../../../src/topology/types';
import { InputError, writerSchemas, type InputRecord, type InputStep, type WriterRef } from './input';
import { runSchemaText, type RunNames } from './case';

// Turns the records of input.jsonl into Kafka messages: writer schemas registered in order of
// first use, plain JSON encoded with them (strictly: an unknown or missing field is a mistake
// in the case file, not a test of the engine), raw bytes sent as they are.

interface Writer {
  id: number;
  file: string;
  /** Avro writers encode; JSON Schema writers send the JSON as it is (invalid events are the point). */
  avro?: { schema: avro.Schema; type: avro.Type };
}

export interface OutgoingRecord {
  line: number;
  topic: string;
  partition: number;
  message: Message;
}

export interface EncodedInput {
  /** Records between `$wait` lines, in order. */
  segments: OutgoingRecord[][];
  /** Registry id -> the case's schema file it was registered from. */
  schemaLabels: Map<number, string>;
}

export async function encodeInput(steps: InputStep[], caseDir: string, names: RunNames, registry: Registry): Promise<EncodedInput> {
  const sourceOf = (r: InputRecord): SourceSpec => {
    const s = r.source ? names.topology.sources.find((x) => x.name === r.source) : names.topology.sources[0];
    if (!s) throw new InputError(`input.jsonl:${r.line}: no source named ${r.source}`);
    return s;
  };
  const writerOf = (r: InputRecord): WriterRef | undefined => {
    const source = sourceOf(r);
    const schema = r.schema ?? names.sourceSchemas.get(source.name);
    return schema ? { schema, subject: r.subject ? names.rename(r.subject) : source.subject } : undefined;
  };
  // Every source's own schema last, as `init` registers it (no new version when a writer had it).
  const refs = writerSchemas(steps, writerOf);
  for (const source of names.topology.sources) {
    const schema = names.sourceSchemas.get(source.name);
    if (schema && !refs.some((w) => w.subject === source.subject && w.schema === schema)) refs.push({ schema, subject: source.subject });
  }
  const writers = new Map<string, Writer>();
  const schemaLabels = new Map<number, string>();
  for (const ref of refs) {
    const file = path.resolve(caseDir, ref.schema);
    const text = runSchemaText(file, names.token);
    const isAvro = file.endsWith('.avsc');
    const id = await registry.register(ref.subject, text, isAvro ? 'avro' : 'json');
    const schema = JSON.parse(text) as avro.Schema;
    writers.set(`${ref.subject}\n${ref.schema}`, { id, file: ref.schema, avro: isAvro ? { schema, type: avro.Type.forSchema(schema) } : undefined });
    if (!schemaLabels.has(id)) schemaLabels.set(id, path.basename(ref.schema));
  }

  const segments: OutgoingRecord[][] = [[]];
  for (const step of steps) {
    if (step.kind === 'wait') {
      segments.push([]);
      continue;
    }
    const r = step.record;
    const source = sourceOf(r);
    const ref = writerOf(r);
    const writer = ref ? writers.get(`${ref.subject}\n${ref.schema}`) : undefined;
    segments[segments.length - 1].push({
      line: r.line,
      topic: source.topic,
      partition: r.partition ?? 0,
      message: { partition: r.partition ?? 0, key: keyOf(r, source), value: valueOf(r, writer), headers: headersOf(r) },
    });
  }
  return { segments: segments.filter((s) => s.length > 0), schemaLabels };
}

function keyOf(r: InputRecord, source: SourceSpec): string | null {
  if (r.key !== undefined) return r.key;
  const v = r.value?.[source.idempotencyKey];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
}

function headersOf(r: InputRecord): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) out[k] = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.base64, 'base64');
  return out;
}

function valueOf(r: InputRecord, writer: Writer | undefined): Buffer | null {
  if (r.valueBase64 !== undefined) return Buffer.from(r.valueBase64, 'base64');
  if (r.value === null) return null;
  const id = r.schemaId ?? writer?.id;
  if (!writer || id === undefined) throw new InputError(`input.jsonl:${r.line}: no writer schema (give "schema", or a source schema in the topology)`);
  if (r.payloadBase64 !== undefined) return writeWireFrame(id, Buffer.from(r.payloadBase64, 'base64'));
  const value: Record<string, unknown> = { ...r.value };
  for (const [field, n] of Object.entries(r.fill ?? {})) value[field] = 'x'.repeat(n);
  if (!writer.avro) return writeWireFrame(id, Buffer.from(JSON.stringify(value)));
  return writeWireFrame(id, encodeAvro(writer, value, r.line));
}

function encodeAvro(writer: Writer, value: Record<string, unknown>, line: number): Buffer {
  const { schema, type } = writer.avro!;
  const fields = new Set((type as avro.types.RecordType).fields.map((f) => f.name));
  const unknown = Object.keys(value).filter((k) => !fields.has(k));
  if (unknown.length) throw new InputError(`input.jsonl:${line}: field ${unknown.join(', ')} is not in ${writer.file}`);
  const plain = fromPlainJson(schema, value);
  const problems: string[] = [];
  if (!type.isValid(plain, { errorHook: (p) => problems.push(p.join('.') || '(event)') })) {
    throw new InputError(`input.jsonl:${line}: does not fit ${writer.file} at ${problems.join(', ')}`);
  }
  return type.toBuffer(plain);
}

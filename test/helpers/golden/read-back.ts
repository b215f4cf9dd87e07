import type { Registry } from '../../../src/decode/registry';
import { readWireFrame } from '../../../src/decode/wire';
import type { CollectedMessage } from './collector';
import { bytesAsJson, compareKeys, normalizeValue, sortKey, type GoldenRecord, type NormalizeContext } from './normalize';

// Output messages -> golden records: values decoded with their writer schema from the
// registry, as any downstream consumer reads them, then normalized and put in a stable order.

/** An input record as the broker stored it. */
export interface SentRecord {
  topic: string;
  partition: number;
  offset: number;
  value: Buffer | null;
}

export const coordinates = (s: { topic: string; partition: number; offset: number }) => `${s.topic}|${s.partition}|${s.offset}`;

export async function goldenRecords(output: string, messages: CollectedMessage[], registry: Registry, ctx: NormalizeContext, sent: ReadonlyMap<string, SentRecord>): Promise<GoldenRecord[]> {
  const records = await Promise.all(messages.map(async (m, order) => ({ order, record: await goldenRecord(output, m, registry, ctx, sent) })));
  records.sort((a, b) => compareKeys(sortKey(output, a.record, a.order), sortKey(output, b.record, b.order)));
  return records.map((r) => r.record);
}

async function decodeValue(value: Buffer | null, registry: Registry): Promise<unknown> {
  if (value === null) return null;
  if (value[0] !== 0) return JSON.parse(value.toString('utf8')); // alerts with format: json
  const frame = readWireFrame(value);
  const writer = await registry.writerSchema(frame.schemaId);
  return writer.kind === 'avro' ? writer.type.fromBuffer(frame.payload) : JSON.parse(frame.payload.toString('utf8'));
}

async function goldenRecord(output: string, m: CollectedMessage, registry: Registry, ctx: NormalizeContext, sent: ReadonlyMap<string, SentRecord>): Promise<GoldenRecord> {
  const value = (await decodeValue(m.value, registry)) as Record<string, unknown> | null;
  if (output === 'deadLetter' && value && Buffer.isBuffer(value.value)) {
    // The original bytes, untouched, is the contract: say so instead of printing them
    // (they hold this run's schema ids).
    const original = sent.get(coordinates({ topic: String(value.source_topic), partition: Number(value.source_partition), offset: Number(value.source_offset) }));
    if (original?.value && original.value.equals(value.value)) value.value = '<input value>';
  }
  const headers: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m.headers)) {
    headers[k] = Array.isArray(v) ? v.map((x) => bytesAsJson(Buffer.from(x))) : v === undefined ? null : bytesAsJson(Buffer.from(v));
  }
  return {
    key: m.key === null ? null : normalizeValue(m.key, ctx),
    partition: m.partition,
    headers: normalizeValue(headers, ctx) as Record<string, unknown>,
    value: normalizeValue(value, ctx),
  };
}

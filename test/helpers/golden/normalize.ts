import { stripToken } from './case';

// Output records -> plain JSON that is the same on every run: the run's token stripped from
// every string, wall-clock fields masked, registry ids replaced by the schema file they came
// from, and ids derived from this run's names (generated correlation ids, session ids)
// replaced by a label naming what they were derived from.

/** Fields whose value is the wall clock (or a broker timestamp), wherever they appear. */
export const MASKED_FIELDS = new Set(['processed_at', 'ingested_at', 'clock_skew_ms', 'failed_at', 'source_timestamp', 'emitted_at']);
export const MASK = '<masked>';

/** Wall-clock numbers inside messages: EVENT_TIME_INVALID says how far in the future (from now). */
const VOLATILE_TEXT: Array<[RegExp, string]> = [[/(event time is )\d+( ms in the future)/g, `$1${MASK}$2`]];

export interface NormalizeContext {
  token: string;
  /** Registry id -> schema file of the case. */
  schemaLabels: ReadonlyMap<number, string>;
  /** Whole strings derived from this run's names -> a stable label. */
  aliases: ReadonlyMap<string, string>;
}

/** A golden record: what a downstream consumer sees, in plain JSON. */
export interface GoldenRecord {
  key: unknown;
  partition: number;
  headers: Record<string, unknown>;
  value: unknown;
}

export function normalizeValue(value: unknown, ctx: NormalizeContext, field = ''): unknown {
  if (MASKED_FIELDS.has(field) && value !== null && value !== undefined) return MASK;
  if (field === 'schema_id' && typeof value === 'number') return `<schema ${ctx.schemaLabels.get(value) ?? '?'}>`;
  if (Buffer.isBuffer(value)) return normalizeValue(bytesAsJson(value), ctx);
  if (typeof value === 'string') return normalizeString(value, ctx);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return value.map((v) => normalizeValue(v, ctx));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[normalizeString(k, ctx)] = normalizeValue(v, ctx, k);
    return out;
  }
  return value;
}

function normalizeString(s: string, ctx: NormalizeContext): string {
  const alias = ctx.aliases.get(s);
  if (alias) return alias;
  let text = stripToken(s, ctx.token);
  for (const [pattern, replacement] of VOLATILE_TEXT) text = text.replace(pattern, replacement);
  return text.replace(/\bschema (id )?(\d+)\b/g, (whole, id: string | undefined, n: string) => {
    const label = ctx.schemaLabels.get(Number(n));
    return label ? `schema ${id ?? ''}<${label}>` : whole;
  });
}

/** Bytes that are printable UTF-8 as a string, others as {"base64": ...}. */
export function bytesAsJson(b: Buffer): string | { base64: string } {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(b);
    // eslint-disable-next-line no-control-regex
    if (!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return text;
  } catch {
    /* not UTF-8 */
  }
  return { base64: b.toString('base64') };
}

type SortKey = Array<string | number>;

/** Order of the records of one output: stable across runs whatever the batching. */
export function sortKey(output: string, r: GoldenRecord, kafkaOrder: number): SortKey {
  const v = (r.value ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const key = String(r.key ?? '');
  if (output === 'enriched' && v.tracklane?.source) return [v.tracklane.source.topic, v.tracklane.source.partition, v.tracklane.source.offset];
  if (output === 'deadLetter' && v.source_topic !== undefined) return [v.source_topic, v.source_partition, v.source_offset];
  if (output === 'metrics' && typeof v.window_start === 'number') return [v.window_start, key];
  if (output === 'alerts' && typeof v.starts_at === 'number') return [v.status === 'resolved' ? v.ends_at : v.starts_at, key, v.status === 'resolved' ? 1 : 0];
  return [kafkaOrder];
}

export function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    if (typeof a[i] === 'number' && typeof b[i] === 'number') return (a[i] as number) - (b[i] as number);
    return String(a[i]) < String(b[i]) ? -1 : 1;
  }
  return a.length - b.length;
}

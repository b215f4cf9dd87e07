import type { Message } from 'kafkajs';

// A broker refuses a produce request whose record batch for one partition is larger than the
// topic's max.message.bytes (1,048,588 by default), so the replay sends in chunks whose
// records add up to less than that, counting key, value and headers.

/** Bytes of one record's framing in a v2 batch: length, attributes, deltas, sizes (varints, worst case). */
const RECORD_OVERHEAD = 40;
const HEADER_OVERHEAD = 10;
/** The record batch header (61 bytes) and some slack. */
export const BATCH_OVERHEAD = 200;
/** Upper bound of one request, whatever the topics allow: keeps a chunk's memory and send time small. */
export const MAX_CHUNK_BYTES = 900_000;

export function recordBytes(m: Pick<Message, 'key' | 'value' | 'headers'>): number {
  let n = RECORD_OVERHEAD + size(m.key) + size(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {})) n += HEADER_OVERHEAD + Buffer.byteLength(k) + size(v as Buffer | string | undefined);
  return n;
}

function size(v: Buffer | string | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/** A dead letter in read order: either something to send, or something already settled (skipped). */
export interface Item<T> {
  /** Present when the item is sent. */
  send?: { topic: string; message: Message; bytes: number };
  ref: T;
}

/**
 * Cuts items (in read order) into chunks. A chunk's sends add up to at most `budget` bytes
 * and `maxRecords` records; a record larger than the budget travels alone. Skipped items ride
 * in the chunk where they fall, so offsets are settled in read order.
 */
export function planChunks<T>(items: readonly Item<T>[], budget: number, maxRecords: number): Item<T>[][] {
  const chunks: Item<T>[][] = [];
  let current: Item<T>[] = [];
  let bytes = 0;
  let records = 0;
  for (const item of items) {
    if (item.send && records > 0 && (bytes + item.send.bytes > budget || records >= maxRecords)) {
      chunks.push(current);
      current = [];
      bytes = 0;
      records = 0;
    }
    current.push(item);
    if (item.send) {
      bytes += item.send.bytes;
      records++;
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

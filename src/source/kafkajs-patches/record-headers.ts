// kafkajs 2.2.4 (its last release) builds each consumed record's headers with
// `reduce((obj, h) => ({ ...obj, [h.key]: ... }), {})`: quadratic in the number of headers.
// One record with 3,000 headers blocks the event loop for about 2 s, and a 1 MB record can
// carry ~100,000 of them: hours of CPU, no heartbeats, and every instance that picks the
// partition up freezes on the same record. This is the same record decoder with the
// headers built in one pass; index.ts installs it before kafkajs loads its own. Outside plain
// Node (jest's module registry) the install does nothing.


interface KafkaDecoder {
  readInt8(): number;
  readVarLong(): { toString(): string };
  readVarInt(): number;
  readVarIntBytes(): Buffer | null;
  readVarIntArray<T>(reader: (d: KafkaDecoder) => T): T[];
}

interface LongLike {
  add(n: unknown): { toString(): string };
}

interface LongStatic {
  fromValue(v: unknown): LongLike;
}

interface BatchContext {
  firstOffset?: string;
  firstTimestamp?: string;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
  maxTimestamp?: string;
}

export type RecordHeaders = Record<string, Buffer | null | Array<Buffer | null>>;

/**
 * Headers as kafkajs exposes them (a repeated key becomes an array, in order), built in one
 * pass. Only own properties count, and `__proto__` stays an ordinary key.
 */
export function headersObject(pairs: ReadonlyArray<{ key: string; value: Buffer | null }>): RecordHeaders {
  const out: RecordHeaders = {};
  for (const { key, value } of pairs) {
    const prior = Object.prototype.hasOwnProperty.call(out, key) ? out[key] : undefined;
    const next = prior === undefined ? value : Array.isArray(prior) ? (prior.push(value), prior) : [prior, value];
    Object.defineProperty(out, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** kafkajs's record/v0 decoder, field for field, with the headers built by headersObject(). */
export function createRecordDecoder() {
  const Long: LongStatic = require('kafkajs/src/utils/long');
  const TimestampTypes: { LOG_APPEND_TIME: number } = require('kafkajs/src/protocol/timestampTypes');
  const HeaderDecoder: (d: KafkaDecoder) => { key: string; value: Buffer | null } = require('kafkajs/src/protocol/recordBatch/header/v0/decoder');
  return (decoder: KafkaDecoder, batchContext: BatchContext = {}) => {
    const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
    const attributes = decoder.readInt8();
    const timestampDelta = decoder.readVarLong();
    const timestamp =
      timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp ? maxTimestamp : Long.fromValue(firstTimestamp).add(timestampDelta).toString();
    const offsetDelta = decoder.readVarInt();
    const offset = Long.fromValue(firstOffset).add(offsetDelta).toString();
    const key = decoder.readVarIntBytes();
    const value = decoder.readVarIntBytes();
    const headers = headersObject(decoder.readVarIntArray(HeaderDecoder));
    return { magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord: isControlBatch, batchContext };
  };
}

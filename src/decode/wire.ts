import type avro from 'avsc';
import { DataError } from '../errors';

/** Confluent wire format: magic byte 0, 4-byte big-endian schema id, then the payload. */
export const MAGIC_BYTE = 0;
export const WIRE_HEADER_BYTES = 5;

export interface WireFrame {
  schemaId: number;
  payload: Buffer;
}

export function readWireFrame(value: Buffer): WireFrame {
  if (value.length < WIRE_HEADER_BYTES) {
    throw new DataError('DECODE_FAILED', `value has ${value.length} bytes, shorter than the 5-byte Confluent wire header`);
  }
  if (value[0] !== MAGIC_BYTE) {
    throw new DataError('DECODE_FAILED', `magic byte is ${value[0]}, expected 0 (Confluent wire format)`);
  }
  return { schemaId: value.readInt32BE(1), payload: value.subarray(WIRE_HEADER_BYTES) };
}

export function writeWireFrame(schemaId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(WIRE_HEADER_BYTES);
  header[0] = MAGIC_BYTE;
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, payload]);
}

// Scratch space for writeAvroFrame: one per process, grown when a value does not fit.
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Header and Avro payload written in one go: one allocation and one copy per record, where
 * writeWireFrame(id, type.toBuffer(value)) makes three allocations and two copies (this is
 * the hot path of every enriched record).
 */
export function writeAvroFrame(schemaId: number, type: avro.Type, value: unknown): Buffer {
  for (;;) {
    scratch[0] = MAGIC_BYTE;
    scratch.writeInt32BE(schemaId, 1);
    const end = type.encode(value, scratch, WIRE_HEADER_BYTES);
    if (end >= 0) return Buffer.from(scratch.subarray(0, end));
    scratch = Buffer.allocUnsafe(2 * (scratch.length - end)); // avsc returns minus the bytes missing
  }
}

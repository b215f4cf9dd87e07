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

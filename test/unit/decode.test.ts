import avro from 'avsc';
import { readWireFrame, writeAvroFrame, writeWireFrame } from '../../src/decode/wire';
import { fromPlainJson, toPlainJson } from '../../src/decode/plain-json';
import { DataError } from '../../src/errors';

describe('Confluent wire format', () => {
  it('round-trips and rejects bad frames with DECODE_FAILED', () => {
    const frame = writeWireFrame(42, Buffer.from([1, 2, 3]));
    expect(readWireFrame(frame)).toEqual({ schemaId: 42, payload: Buffer.from([1, 2, 3]) });
    for (const bad of [Buffer.from([0, 0, 0]), Buffer.from([1, 0, 0, 0, 42, 9])]) {
      expect(() => readWireFrame(bad)).toThrow(DataError);
      try { readWireFrame(bad); } catch (e) { expect((e as DataError).reason).toBe('DECODE_FAILED'); }
    }
  });

  it('writeAvroFrame gives the bytes of writeWireFrame(id, toBuffer), for small values and values beyond its scratch space', () => {
    const type = avro.Type.forSchema({ type: 'record', name: 'R', fields: [{ name: 'id', type: 'long' }, { name: 's', type: 'string' }] });
    for (const s of ['', 'héllo', 'x'.repeat(70_000), 'y'.repeat(300_000), 'z']) {
      const v = { id: s.length, s };
      const framed = writeAvroFrame(7, type, v);
      expect(framed.equals(writeWireFrame(7, type.toBuffer(v)))).toBe(true);
      expect(type.fromBuffer(readWireFrame(framed).payload)).toEqual(v);
    }
    expect(() => writeAvroFrame(7, type, { id: 'nope', s: 1 })).toThrow();
  });
});

describe('plain JSON <-> Avro', () => {
  const schema = { type: 'record', name: 'E', fields: [
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'email', type: ['null', 'string'], default: null },
    { name: 'blob', type: ['null', 'bytes'], default: null },
    { name: 'tags', type: { type: 'array', items: 'string' }, default: [] },
  ] } as avro.Schema;
  const type = avro.Type.forSchema(schema);
  it('accepts ISO times, unwrapped unions and base64 bytes', () => {
    const v = fromPlainJson(schema, { ts: '2026-11-25T00:00:00Z', email: 'a', blob: Buffer.from('hi').toString('base64') });
    const back = type.fromBuffer(type.toBuffer(v));
    expect(back.ts).toBe(Date.parse('2026-11-25T00:00:00Z'));
    expect(toPlainJson(back)).toEqual({ ts: Date.parse('2026-11-25T00:00:00Z'), email: 'a', blob: 'aGk=', tags: [] });
  });
  it('names the path of a bad time', () => {
    expect(() => fromPlainJson(schema, { ts: 'yesterday' })).toThrow(/\/ts/);
  });
});

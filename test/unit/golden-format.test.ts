import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { discoverCases, runSchemaText, stripToken } from '../helpers/golden/case';
import { InputError, parseInput } from '../helpers/golden/input';
import { compareKeys, normalizeValue, sortKey, type GoldenRecord } from '../helpers/golden/normalize';

// The golden runner's file format and normalization (test/topologies/README.md), without the
// stack: what a case file means, and what is masked or relabelled in the outputs.

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'golden-unit-'));
  dirs.push(dir);
  return dir;
}

function inputFile(text: string): string {
  const dir = tmpDir();
  const file = path.join(dir, 'input.jsonl');
  fs.writeFileSync(file, text);
  return file;
}

describe('input.jsonl', () => {
  it('reads records, comments, $defaults and $wait in order', () => {
    const steps = parseInput(inputFile([
      '# a comment',
      '{"$defaults": {"schema": "v1.avsc", "partition": 1}}',
      '{"value": {"event_id": "a"}}',
      '',
      '{"$wait": "committed"}',
      '{"schema": "v2.avsc", "valueBase64": "AAE=", "key": null}',
    ].join('\n')));
    expect(steps).toEqual([
      { kind: 'record', record: { schema: 'v1.avsc', partition: 1, value: { event_id: 'a' }, line: 3 } },
      { kind: 'wait', line: 5 },
      { kind: 'record', record: { schema: 'v2.avsc', partition: 1, valueBase64: 'AAE=', key: null, line: 6 } },
    ]);
  });

  it('refuses mistakes with their line', () => {
    expect(() => parseInput(inputFile('{"value": {}, "valu": 1}'))).toThrow(/input.jsonl:1: unknown field valu/);
    expect(() => parseInput(inputFile('\n{"value": {}, "valueBase64": "AA=="}'))).toThrow(/:2: give exactly one of value/);
    expect(() => parseInput(inputFile('{"key": "k"}'))).toThrow(InputError);
    expect(() => parseInput(inputFile('{"$wait": "idle"}'))).toThrow(/the only wait/);
    expect(() => parseInput(inputFile('{"$defaults": {"value": {}}}'))).toThrow(/\$defaults takes only/);
    expect(() => parseInput(inputFile('{value}'))).toThrow(/not JSON/);
  });
});

describe('normalization', () => {
  const ctx = {
    token: 'gabc123',
    schemaLabels: new Map([[42, 'order-v2.avsc']]),
    aliases: new Map([['5f0c', '<generated from raw.x|0|3>']]),
  };

  it('strips the run token, masks wall-clock fields and relabels ids', () => {
    const out = normalizeValue({
      topology: 'shop-gabc123',
      tracklane: { processed_at: 1, ingested_at: 2, clock_skew_ms: -3, correlation_id: '5f0c', source: { topic: 'raw.x.gabc123', schema_id: 42 } },
      failed_at: null,
      message: 'writer schema 42 (raw.x.gabc123-value v1) cannot be read; schema 7 is unknown',
      note: 'event time is 123456 ms in the future',
    }, ctx);
    expect(out).toEqual({
      topology: 'shop',
      tracklane: { processed_at: '<masked>', ingested_at: '<masked>', clock_skew_ms: '<masked>', correlation_id: '<generated from raw.x|0|3>', source: { topic: 'raw.x', schema_id: '<schema order-v2.avsc>' } },
      failed_at: null,
      message: 'writer schema <order-v2.avsc> (raw.x-value v1) cannot be read; schema 7 is unknown',
      note: 'event time is <masked> ms in the future',
    });
  });

  it('shows bytes as text when printable UTF-8, else as base64', () => {
    expect(normalizeValue({ h: Buffer.from('golden') }, ctx)).toEqual({ h: 'golden' });
    expect(normalizeValue({ h: Buffer.from([0, 1, 2]) }, ctx)).toEqual({ h: { base64: 'AAEC' } });
    expect(normalizeValue({ h: Buffer.from([0xff]) }, ctx)).toEqual({ h: { base64: '/w==' } });
  });

  it('orders alerts by transition time, firing before resolved', () => {
    const alert = (status: string, starts: number, ends: number | null): GoldenRecord => ({ key: 'k', partition: 0, headers: {}, value: { status, starts_at: starts, ends_at: ends } });
    const records = [alert('resolved', 100, 300), alert('firing', 400, null), alert('firing', 100, null)];
    const sorted = [...records].sort((a, b) => compareKeys(sortKey('alerts', a, 0), sortKey('alerts', b, 0)));
    expect(sorted.map((r) => (r.value as { status: string }).status)).toEqual(['firing', 'resolved', 'firing']);
  });

  it('removes only the token from names', () => {
    expect(stripToken('raw.orders.gabc123-value', 'gabc123')).toBe('raw.orders-value');
    expect(stripToken('orders-gabc123/slo/1h/5m', 'gabc123')).toBe('orders/slo/1h/5m');
    expect(stripToken('{"golden_run":"gabc123"}', 'gabc123')).toBe('{"golden_run":"<run>"}');
  });
});

describe('cases and schema files', () => {
  it('finds the case folders and leaves flat check cases alone', () => {
    const names = discoverCases(path.resolve(__dirname, '../topologies')).map((c) => c.name);
    expect(names).not.toContain('bad');
    expect(names.length).toBeGreaterThanOrEqual(10);
  });

  it('tags schema files with the run token without changing what they describe', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'a.avsc'), '{"type": "record", "name": "A", "fields": []}');
    fs.writeFileSync(path.join(dir, 'a.json'), '{"type": "object"}');
    expect(JSON.parse(runSchemaText(path.join(dir, 'a.avsc'), 'gabc'))).toEqual({ type: 'record', name: 'A', fields: [], golden_run: 'gabc' });
    expect(JSON.parse(runSchemaText(path.join(dir, 'a.json'), 'gabc'))).toEqual({ type: 'object', $comment: 'golden run gabc' });
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { CelCompileError, compileCel } from '../../src/expr/cel';
import { avroVariables, jsonSchemaVariables } from '../../src/expr/schema-types';
import { typeCheckCel } from '../../src/expr/type-check';

const ROOT = path.resolve(__dirname, '../..');
const checkout = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/checkout-event.avsc'), 'utf8'));
const vars = avroVariables(checkout, 'source "web"');

function problem(expr: string, v = vars): CelCompileError | undefined {
  compileCel(expr); // type checks run on expressions that compile
  try {
    typeCheckCel(expr, v);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(CelCompileError);
    return err as CelCompileError;
  }
}

describe('CEL type check against the reader schema', () => {
  it('maps Avro types to the CEL types their decoded values have', () => {
    const record = avroVariables(
      {
        type: 'record', name: 'R', fields: [
          { name: 's', type: 'string' }, { name: 'i', type: 'int' }, { name: 'l', type: 'long' }, { name: 'd', type: 'double' },
          { name: 'b', type: 'boolean' }, { name: 'n', type: ['null', 'string'] }, { name: 'u', type: ['null', 'string', 'int'] },
          { name: 'e', type: { type: 'enum', name: 'E', symbols: ['A'] } }, { name: 'a', type: { type: 'array', items: 'long' } },
          { name: 'm', type: { type: 'map', values: 'string' } }, { name: 'r', type: { type: 'record', name: 'In', fields: [{ name: 'x', type: 'int' }] } },
          { name: 'by', type: 'bytes' }, { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
        ],
      },
      'test',
    );
    expect(Object.fromEntries(record.fields)).toEqual({
      s: 'string', i: 'double', l: 'double', d: 'double', b: 'bool', n: 'string', u: 'dyn', e: 'string',
      a: 'list<double>', m: 'map<string, string>', r: 'map<string, dyn>', by: 'bytes', ts: 'double',
    });
    expect(record.closed).toBe(true);
  });

  it.each([
    "status == 'ok'",
    "type == 'checkout'",
    "type == 'checkout' && status != 'ok'",
    'duration_ms <= 300',
    'duration_ms == 300',
    'duration_ms / 1000 > 2',
    'int(duration_ms) % 100 == 0',
    "region in ['eu', 'us']",
    'duration_ms in [500, 503]',
    'email == null',
    "email != null && email.endsWith('@example.com')",
    'amount_cents != null && amount_cents > 0',
    'has(event.email)',
    'consent_analytics',
    "url.matches('^/checkout')",
    'type(duration_ms) == double',
  ])('accepts %s', (expr) => {
    expect(problem(expr)?.summary).toBeUndefined();
  });

  it.each([
    ["stauts == 'ok'", 'field "stauts" is not in the schema of source "web"', 0],
    ["status == 'ok' && regoin == 'eu'", 'field "regoin" is not in the schema of source "web"', 18],
    ['status == 200', 'no such overload: string == int', 0],
    ["duration_ms > 'slow'", 'no such overload: double > string', 0],
    ['type == 1', 'no such overload: string == int', 0],
    ['duration_ms % 100 == 0', 'no such overload: double % int', 0],
    ['consent_analytics == 1', 'no such overload: bool == int', 0],
  ])('rejects %s', (expr, summary, offset) => {
    const err = problem(expr as string);
    expect(err?.summary).toContain(summary);
    expect(err?.offset).toBe(offset);
  });

  it('checks JSON Schema sources, strictly only when other properties are forbidden', () => {
    const schema = { type: 'object', properties: { status: { type: 'string' }, code: { type: 'integer' } } };
    const open = jsonSchemaVariables(schema, 'json');
    expect(problem("other == 'x'", open)).toBeUndefined();
    expect(problem('status == 1', open)?.summary).toContain('string == int');
    const closed = jsonSchemaVariables({ ...schema, additionalProperties: false }, 'json');
    expect(problem("other == 'x'", closed)?.summary).toContain('field "other" is not in the schema of json');
    expect(problem("type == 'x'", open)).toBeUndefined();
  });
});

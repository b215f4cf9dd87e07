import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkCandidate, checkRegistered } from '../../src/cli/contract';
import type { SubjectVersion } from '../../src/decode/registry';
import { fieldProblems, fieldUses, parseContractSchema, readabilityProblems, unwrittenKeyProblems } from '../../src/topology/contract';
import { loadTopology } from '../../src/topology/load';

const root = path.join(__dirname, '../..');
const topology = loadTopology(path.join(root, 'topologies/checkout.yaml'));
const source = topology.sources[0];
const SUBJECT = source.subject;
type Field = { name: string; type: unknown; default?: unknown };
type Schema = { fields: Field[]; [k: string]: unknown };
const v1: Schema = JSON.parse(fs.readFileSync(path.join(root, 'schemas/checkout-event-v1.avsc'), 'utf8'));
const v2: Schema = JSON.parse(fs.readFileSync(path.join(root, 'schemas/checkout-event.avsc'), 'utf8'));

/** v2 with `change` applied to its fields. */
function variant(change: (fields: Field[]) => Field[]): Schema {
  return { ...v2, fields: change(v2.fields.map((f) => ({ ...f }))) };
}
const without = (name: string) => variant((fs_) => fs_.filter((f) => f.name !== name));
const retyped = (name: string, type: unknown, extra: Partial<Field> = {}) =>
  variant((fs_) => fs_.map((f) => (f.name === name ? { name, type, ...extra } : f)));
const parsed = (s: Schema, label = 'candidate') => parseContractSchema(JSON.stringify(s), label);

/** A registry holding these schemas as versions 1, 2, ... of the source subject. */
function registry(...schemas: Schema[]) {
  const versions: SubjectVersion[] = schemas.map((s, i) => ({ id: 100 + i, version: i + 1, schema: JSON.stringify(s), schemaType: 'AVRO' }));
  return async (subject: string) => (subject === SUBJECT ? versions : []);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contract-'));
function candidateFile(s: Schema): string {
  const file = path.join(dir, `candidate-${Math.random().toString(36).slice(2)}.avsc`);
  fs.writeFileSync(file, JSON.stringify(s));
  return file;
}

describe('contract checks (pure)', () => {
  it('finds nothing wrong with the example schemas', () => {
    expect(fieldProblems(topology, source, parsed(v2))).toEqual([]);
    expect(readabilityProblems(parsed(v2), parsed(v1))).toEqual([]);
    expect(unwrittenKeyProblems(source, parsed(v2), parsed(v1))).toEqual([]);
  });

  it('lists every field a step or an SLI names, with the type it needs', () => {
    expect(fieldUses(topology).map((u) => `${u.field}:${u.need}`)).toEqual([
      'correlation_id:string', 'anonymous_id:string', 'user_id:string', 'user_id:id', 'anonymous_id:id',
      'email:any', 'ip:any', 'consent_analytics:any', 'region:any', 'duration_ms:number',
    ]);
  });

  it('reports a removed idempotency key: missing, and unreadable for the reader that requires it', () => {
    const c = parsed(without('event_id'));
    expect(fieldProblems(topology, source, c)).toEqual(['idempotency key field "event_id" is missing']);
    expect(readabilityProblems(parsed(v2, 'subj v2'), c)).toEqual([expect.stringMatching(/^cannot be read with the reader schema \(subj v2\): .*event_id/)]);
  });

  it('reports key and event-time types the validate stage cannot use', () => {
    expect(fieldProblems(topology, source, parsed(retyped('event_id', ['null', 'string'], { default: null })))).toContain(
      'idempotency key field "event_id" is nullable string: must not be nullable: events without a key are dead-lettered as MISSING_IDEMPOTENCY_KEY');
    expect(fieldProblems(topology, source, parsed(retyped('event_id', 'double')))).toContain('idempotency key field "event_id" is double: needs string, int or long');
    expect(fieldProblems(topology, source, parsed(retyped('ts', 'int')))).toEqual(['event time field "ts" is int: int cannot hold epoch milliseconds; use long (timestamp-millis)']);
    expect(fieldProblems(topology, source, parsed(retyped('ts', { type: 'long', logicalType: 'timestamp-micros' })))).toEqual([
      'event time field "ts" is long (timestamp-micros): needs epoch milliseconds, not timestamp-micros']);
    expect(fieldProblems(topology, source, parsed(retyped('ts', 'double')))).toEqual([]);
    expect(fieldProblems(topology, source, parsed(retyped('ts', 'string')))).toEqual([]);
  });

  it('reports a CEL expression broken by a renamed or retyped field', () => {
    const renamed = variant((f) => f.map((x) => (x.name === 'status' ? { ...x, name: 'state' } : x)));
    expect(fieldProblems(topology, source, parsed(renamed))).toEqual([expect.stringMatching(/^spec\.slis\[0\]\.ratio\.good "status == 'ok'": CEL: .*status/)]);
    const retypedStatus = fieldProblems(topology, source, parsed(retyped('status', 'int')));
    expect(retypedStatus).toHaveLength(1);
    expect(retypedStatus[0]).toMatch(/^spec\.slis\[0\]\.ratio\.good "status == 'ok'": CEL: no such overload: double == string/);
  });

  it('reports step fields with types their step cannot use', () => {
    expect(fieldProblems(topology, source, parsed(retyped('correlation_id', 'long', { default: 0 })))).toEqual([
      'field "correlation_id" named by spec.enrich[0].correlation.field is long; it needs a string']);
    expect(fieldProblems(topology, source, parsed(retyped('duration_ms', 'string')))).toEqual([
      'field "duration_ms" named by spec.slis[1].latency.field is string; it needs a number']);
    expect(fieldProblems(topology, source, parsed(without('consent_analytics')))).toEqual([
      'field "consent_analytics" named by spec.enrich[4].consent.field is missing']);
  });

  it('reports a key the writer does not write although the reader has a default for it', () => {
    const reader = parsed(retyped('event_id', 'string', { default: '' }), 'subj v3');
    expect(unwrittenKeyProblems(source, reader, parsed(without('event_id'), 'subj v2'))).toEqual([
      expect.stringMatching(/^does not write idempotency key field "event_id"; every event would get the reader's default/)]);
  });
});

describe('contract against registered versions', () => {
  it('passes v1 and v2 of the example', async () => {
    const r = await checkRegistered(topology, topology.sources, registry(v1, v2));
    expect(r.problems).toEqual([]);
    expect(r.summary).toBe(`checkout: 2 registered versions of ${SUBJECT} meet the contract`);
  });

  it('names the version that breaks, one line per problem', async () => {
    // v3 retypes status: as the reader it cannot resolve v1 and v2 (string -> int), and the SLI's CEL no longer type-checks.
    const r = await checkRegistered(topology, topology.sources, registry(v1, v2, retyped('status', 'int')));
    expect(r.problems).toEqual([
      `${SUBJECT} v1: cannot be read with the reader schema (${SUBJECT} v3): field "status" is written as "string" and read as "int"`,
      `${SUBJECT} v2: cannot be read with the reader schema (${SUBJECT} v3): field "status" is written as "string" and read as "int"`,
      `${SUBJECT} v3: spec.slis[0].ratio.good "status == 'ok'": CEL: no such overload: double == string; field types from the schema of ${SUBJECT} v3`,
    ]);
  });

  it('reports an unregistered subject', async () => {
    const r = await checkRegistered(topology, topology.sources, registry());
    expect(r.problems).toEqual([`${SUBJECT}: no version is registered (source web); check a schema before it ships with --schema`]);
  });
});

describe('contract of a candidate schema', () => {
  it('passes a compatible candidate (a new optional field)', async () => {
    const file = candidateFile(variant((f) => [...f, { name: 'coupon', type: ['null', 'string'], default: null }]));
    const r = await checkCandidate(topology, source, file, registry(v1, v2));
    expect(r.problems).toEqual([]);
    expect(r.summary).toBe(`${file} meets the contract of source web (reads ${SUBJECT} v1..v2, readable with ${SUBJECT} v2)`);
  });

  it('breaks when the idempotency key is removed', async () => {
    const file = candidateFile(without('event_id'));
    const r = await checkCandidate(topology, source, file, registry(v1, v2));
    expect(r.problems).toEqual([
      `${file}: idempotency key field "event_id" is missing`,
      `${file}: cannot be read with the reader schema (${SUBJECT} v2): field "event_id" is not written and the reader has no default for it`,
    ]);
  });

  it('breaks when a field without default is added: the candidate, as the next reader, cannot read what is on the topic', async () => {
    const file = candidateFile(variant((f) => [...f, { name: 'channel', type: 'string' }]));
    const r = await checkCandidate(topology, source, file, registry(v1, v2));
    expect(r.problems).toEqual([
      expect.stringMatching(new RegExp(`^${SUBJECT} v1: cannot be read with the reader schema \\(${file.replace(/[.\\]/g, '\\$&')}\\): .*channel`)),
      expect.stringMatching(new RegExp(`^${SUBJECT} v2: cannot be read with the reader schema \\(.*channel`)),
    ]);
  });

  it('checks against the topology schema file when the subject is not registered yet', async () => {
    const file = candidateFile(retyped('status', 'int'));
    const r = await checkCandidate(topology, source, file, registry());
    expect(r.problems).toEqual([
      expect.stringMatching(/: spec\.slis\[0\]\.ratio\.good "status == 'ok'": CEL: /),
      expect.stringMatching(/: cannot be read with the reader schema \(.*checkout-event\.avsc\): /),
    ]);
  });

  it('reports a candidate that is not an Avro record', async () => {
    const file = candidateFile({ type: 'string' } as unknown as Schema);
    const r = await checkCandidate(topology, source, file, registry(v1, v2));
    expect(r.problems).toEqual([`${file}: the Avro schema of an event must be a record`]);
  });
});

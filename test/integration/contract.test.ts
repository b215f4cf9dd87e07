import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Registry } from '../../src/decode/registry';
import { checkoutSlisYaml, writeFixture, type Fixture } from '../helpers/engine-fixture';
import { registryUrl } from '../helpers/stack-env';

// `tracklane contract` as a producer's CI runs it: the built CLI against the real registry,
// under a subject of its own. It touches no topic.

const BIN = path.resolve(__dirname, '../../bin/tracklane.js');
const FIXTURES = path.resolve(__dirname, '../fixtures');
const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

type Field = { name: string; type: unknown; default?: unknown };
const v2 = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'order-v2.avsc'), 'utf8')) as { fields: Field[] };
const variant = (change: (fields: Field[]) => Field[]) => JSON.stringify({ ...v2, fields: change(v2.fields) });

describe('tracklane contract', () => {
  let f: Fixture;
  let registry: Registry;
  const candidate = (name: string, text: string) => {
    const file = path.join(f.dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  beforeAll(() => {
    f = writeFixture({ extra: checkoutSlisYaml({ allowedLateness: '1m', idleTimeout: '10s' }) });
    registry = new Registry({ url: registryUrl() });
  });

  it('exits 1 for a subject with nothing registered, 0 once v1 and v2 are', async () => {
    const none = await run(['contract', '-t', f.file]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(`${f.subject}: no version is registered (source web); check a schema before it ships with --schema\n`);

    await registry.register(f.subject, fs.readFileSync(path.join(FIXTURES, 'order-v1.avsc'), 'utf8'));
    await registry.register(f.subject, JSON.stringify(v2));
    const ok = await run(['contract', '-t', f.file]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`ok: ${f.name}: 2 registered versions of ${f.subject} meet the contract\n`);
  });

  it('passes a compatible candidate', async () => {
    const file = candidate('compatible.avsc', variant((fs_) => [...fs_, { name: 'coupon', type: ['null', 'string'], default: null }]));
    const r = await run(['contract', '-t', f.file, '--schema', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`ok: ${file} meets the contract of source web (reads ${f.subject} v1..v2, readable with ${f.subject} v2)\n`);
  });

  it('fails a candidate without the idempotency key, one line per problem', async () => {
    const file = candidate('no-key.avsc', variant((fs_) => fs_.filter((x) => x.name !== 'event_id')));
    const r = await run(['contract', '-t', f.file, '--schema', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `${file}: idempotency key field "event_id" is missing`,
      `${file}: cannot be read with the reader schema (${f.subject} v2): field "event_id" is not written and the reader has no default for it`,
    ]);
  });

  it('fails a candidate that retypes a field an SLI expression uses', async () => {
    const file = candidate('status-int.avsc', variant((fs_) => fs_.map((x) => (x.name === 'status' ? { name: 'status', type: 'int' } : x))));
    const r = await run(['contract', '-t', f.file, '--schema', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `${file}: spec.slis[0].ratio.good "status == 'ok'": CEL: no such overload: double == string; field types from the schema of ${file}`,
      `${file}: cannot be read with the reader schema (${f.subject} v2): field "status" is written as "int" and read as "string"`,
      `${f.subject} v1: cannot be read with the reader schema (${file}): field "status" is written as "string" and read as "int"`,
      `${f.subject} v2: cannot be read with the reader schema (${file}): field "status" is written as "string" and read as "int"`,
    ]);
  });

  it('names a registered version that the registry accepted but that breaks an SLI', async () => {
    // Renaming status (with a default) is BACKWARD compatible, so the registry takes it; the SLI can no longer be evaluated.
    await registry.register(f.subject, variant((fs_) => fs_.map((x) => (x.name === 'status' ? { name: 'state', type: 'string', default: 'ok' } : x))));
    const r = await run(['contract', '-t', f.file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${f.subject.replace(/\./g, '\\.')} v3: spec\\.slis\\[0\\]\\.ratio\\.good "status == 'ok'": CEL: .*status`)),
    ]);
  });

  it('exits 2 when the registry is unreachable', async () => {
    const r = await run(['contract', '-t', f.file], { SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1/apis/ccompat/v7' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: schema registry unreachable at http:\/\/127\.0\.0\.1:1\//);
  });
});

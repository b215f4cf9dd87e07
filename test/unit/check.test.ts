import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { expandTopologyPatterns, registerCheck } from '../../src/cli/check';

// `tracklane check` over several files: every error of every file, one exit code.

const ROOT = path.resolve(__dirname, '../..');
const BAD = path.join(ROOT, 'test/topologies/bad');
const rel = (p: string) => path.join(ROOT, p);
/** The `line:col message` lines a bad fixture must produce (its .expected file: each line a prefix, as topology.test.ts reads them). */
const expected = (name: string) => fs.readFileSync(path.join(BAD, `${name}.expected`), 'utf8').trim().split('\n');
const matchesExpected = (lines: string[], name: string) => {
  const want = expected(name);
  expect(lines).toHaveLength(want.length);
  want.forEach((w, i) => expect(lines[i].startsWith(w) ? w : lines[i]).toBe(w));
};

describe('tracklane check with several topologies', () => {
  let out: string[];
  let err: string[];
  beforeEach(() => {
    out = [];
    err = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    jest.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    process.exitCode = undefined;
  });

  async function check(...args: string[]): Promise<number> {
    const program = new Command('tracklane').exitOverride();
    registerCheck(program);
    process.exitCode = undefined;
    await program.parseAsync(['node', 'tracklane', 'check', ...args]);
    return Number(process.exitCode ?? 0);
  }
  const errLines = () => err.join('').trim().split('\n');
  /** `file:line:col path: message` reduced to `line:col message`, the .expected form. */
  const positions = (file: string) => errLines().filter((l) => l.startsWith(`${file}:`)).map((l) => l.slice(file.length + 1).replace(/^(\d+:\d+) \S+: /, '$1 '));

  it('check -t a.yaml -t b.yaml with errors in both prints every error of both and exits 1', async () => {
    const a = path.join(BAD, 'missing-sli.yaml');
    const b = path.join(BAD, 'tiers.yaml');
    expect(await check('-t', a, '-t', b)).toBe(1);
    matchesExpected(positions(a), 'missing-sli');
    matchesExpected(positions(b), 'tiers');
    expect(errLines().at(-1)).toBe('check: 2 of 2 topologies have errors');
    expect(out).toEqual([]);
  });

  it('exits 1 when only one of several files has an error, and says which ones are fine', async () => {
    const good = rel('topologies/checkout.yaml');
    const bad = path.join(BAD, 'missing-sli.yaml');
    expect(await check('-t', good, bad)).toBe(1); // the shell's expansion: -t first, the rest as arguments
    expect(out.join('')).toBe(`ok: ${good}: checkout v3: 1 sources, 5 steps, 2 SLIs, 2 SLOs\n`);
    matchesExpected(positions(bad), 'missing-sli');
  });

  it('expands a quoted glob, in name order, each file once', async () => {
    const glob = path.join(ROOT, 'topologies/*.yaml');
    expect(expandTopologyPatterns([glob, rel('topologies/minimal.yaml')]).files).toEqual([rel('topologies/checkout.yaml'), rel('topologies/minimal.yaml')]);
    expect(await check('-t', glob)).toBe(0);
    expect(out.map((l) => l.split(':')[0])).toEqual(['ok', 'ok']);
    expect(err).toEqual([]);
  });

  it('reports a glob that matches nothing and a missing file, and still checks the rest', async () => {
    const none = path.join(ROOT, 'topologies/*.nothing');
    const missing = path.join(ROOT, 'topologies/absent.yaml');
    expect(await check('-t', none, '-t', missing, '-t', rel('topologies/minimal.yaml'))).toBe(1);
    expect(errLines()).toContain(`${none}: no file matches this pattern`);
    expect(errLines().some((l) => l.startsWith(`${missing}: `))).toBe(true);
    expect(out).toHaveLength(1);
  });

  it('asks for a topology when given none', async () => {
    expect(await check()).toBe(1);
    expect(err.join('')).toMatch(/name a topology/);
  });
});

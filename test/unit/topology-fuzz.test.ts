import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { UserError } from '../../src/errors';
import { CelEvaluationError, compileCel } from '../../src/expr/cel';
import { loadTopology, loadTopologyText, MAX_TOPOLOGY_BYTES } from '../../src/topology/load';
import type { Topology } from '../../src/topology/types';
import { createRng, fuzzSeed, type Rng } from '../helpers/fuzz';

// Hostile and malformed topology files, generated from a seed: the loader must answer every
// one with a UserError whose details name file:line:col (or, for a file it cannot read, the
// file), within a time bound, without a stack overflow, a hang or prototype pollution. A
// sample goes through the real CLI (`npm run build` first). FUZZ_SEED=<n> replays a run.

const SEED = fuzzSeed();
const ROOT = path.resolve(__dirname, '../..');
const BASE_FILE = path.join(ROOT, 'topologies/checkout.yaml');
const BASE = fs.readFileSync(BASE_FILE, 'utf8');
/** Cases are named as if they sat next to checkout.yaml, so `schema: ../schemas/...` resolves. */
const AS_FILE = path.join(ROOT, 'topologies/fuzz-case.yaml');
const MUTATIONS = 300;
const RAW_CASES = 150;
const CLI_SAMPLE = 10;
const BIG = 256 * 1024;

interface Case {
  name: string;
  text?: string;
  /** For cases that are a path rather than text. */
  file?: string;
  /** false: the case may happen to be valid (random edits); it must still load or fail cleanly. */
  mustFail: boolean;
  /** What was done, for the failure message. */
  what?: string;
}

type Path = Array<string | number>;

// --- sites in the base document -------------------------------------------------------------

const base = parseDocument(BASE).toJS() as Record<string, unknown>;
const CEL_SITES: Path[] = [['spec', 'slis', 0, 'ratio', 'good'], ['spec', 'slis', 0, 'ratio', 'total'], ['spec', 'slis', 1, 'latency', 'filter']];
/** Any string is fine there (a subject, a header name, a URL): only a wrong type makes them invalid. */
const FREE_STRINGS = new Set(['subject', 'header', 'runbook']);
const REQUIRED: Path[] = [
  ['apiVersion'], ['kind'], ['metadata'], ['metadata', 'name'], ['metadata', 'version'], ['spec'], ['spec', 'sources'],
  ['spec', 'sources', 0, 'name'], ['spec', 'sources', 0, 'topic'], ['spec', 'sources', 0, 'eventTime'], ['spec', 'sources', 0, 'eventTime', 'field'],
  ['spec', 'sources', 0, 'idempotencyKey'], ['spec', 'outputs'], ['spec', 'outputs', 'enriched'], ['spec', 'outputs', 'deadLetter', 'topic'],
  ['spec', 'outputs', 'metrics'], ['spec', 'outputs', 'alerts', 'topic'],
  ['spec', 'enrich', 1, 'identity', 'userId'], ['spec', 'enrich', 2, 'session', 'by'], ['spec', 'enrich', 3, 'pseudonymize', 'fields'],
  ['spec', 'slis', 0, 'name'], ['spec', 'slis', 0, 'ratio', 'good'], ['spec', 'slis', 1, 'latency', 'threshold'], ['spec', 'slis', 1, 'latency', 'field'],
  ['spec', 'slos', 0, 'sli'], ['spec', 'slos', 1, 'objective'], ['spec', 'slos', 0, 'name'],
];

function sites(value: unknown, at: Path = [], out: Array<{ path: Path; value: unknown }> = []): Array<{ path: Path; value: unknown }> {
  if (at.length > 0) out.push({ path: at, value });
  if (Array.isArray(value)) value.forEach((v, i) => sites(v, [...at, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) sites(v, [...at, k], out);
  return out;
}
const SITES = sites(base);
const MAP_SITES: Path[] = [[], ...SITES.filter((s) => s.value && typeof s.value === 'object' && !Array.isArray(s.value)).map((s) => s.path)];
const isCelSite = (p: Path) => CEL_SITES.some((c) => c.join('/') === p.join('/'));

// --- hostile values -------------------------------------------------------------------------

/** Wrong at every site of the base document, whatever type the site wants. */
function anywhereWrong(rng: Rng): unknown {
  return rng.pick<() => unknown>([
    () => null,
    () => -1.5,
    () => NaN,
    () => -Infinity,
    () => [1, [2, [3]], { a: null }, rng.text(5)],
    () => ({ [rng.pick(['\u0000', '__proto__', 'constructor', 'zz-' + rng.text(4)])]: [rng.int(0, 9)] }),
  ])();
}

/** Wrong for names, topics, durations, fields, enums, CEL, numbers, booleans and schema paths. */
function hostileString(rng: Rng): string {
  return rng.pick<() => string>([
    () => '',
    () => ' ',
    () => '.',
    () => '..',
    () => '\u0000\u0007\u001b[31m',
    () => '\u202e' + rng.text(8) + '\ud800',
    () => '🙂'.repeat(rng.int(1, 200)),
    () => 'UPPER case ' + rng.text(5),
    () => '${HOME}/$(id)',
    () => '../../../../../etc/passwd',
    () => 'x'.repeat(rng.int(10_000, 900_000)),
    () => rng.bytes(rng.int(1, 64)).toString('latin1') + '\u0001',
  ])();
}

/** CEL that must not compile: syntax, limits (length, nodes, depth, cost), not a bool, unsafe regexes. */
function hostileCel(rng: Rng): string {
  const list = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(',')}]`;
  const nested = (depth: number, recv: () => string, body = 'true') => {
    let e = body;
    for (let d = depth - 1; d >= 0; d--) e = `${recv()}.all(v${d}, ${e})`;
    return e;
  };
  return rng.pick<() => string>([
    () => Array(rng.int(401, 2_000)).fill("status == 'ok'").join(' && '), // over 2,000 characters
    () => Array(rng.int(300, 660)).fill('a').join('&&'), // under 2,000 characters, over 400 nodes
    () => '('.repeat(rng.int(40, 990)) + 'true' + ')'.repeat(rng.int(0, 990)),
    () => nested(rng.int(3, 6), () => list(rng.int(50, 90))), // nested macros: node or cost limit
    () => nested(3, () => 'items'), // over event lists, 1,000,000 steps
    () => nested(rng.int(5, 12), () => '[1,2,3,4,5,6,7,8,9,10,11,12]'),
    () => `[1].map(x, ${nested(rng.int(3, 4), () => list(60), 'x > 0')}).size() > 0`,
    () => rng.pick(["status == 'ok", 'status ==', '&& true', ')))', '1 +', 'has(', 'a.b.', '"\\', "status in ['a', 'b'", 'size(', '? :', '@', '#', 'x ?? y']),
    () => rng.pick(['1 + 2', "'string'", '[1, 2]', '{}', 'null', 'b"bytes"', '3.14']),
    () => rng.pick(["status.matches('(a+)+$')", "status.matches('(x|xx)*y')", 'status.matches(status)', "status.matches('[')", `status.matches('${'a'.repeat(250)}')`, "status.matches('(\\\\w+)\\\\1')"]),
    () => rng.bytes(rng.int(1, 80)).toString('latin1'),
    () => ' '.repeat(rng.int(0, 10)),
    () => 'x'.repeat(rng.int(2_001, 50_000)),
  ])();
}

/**
 * May compile (a field is dyn, so `duration_ms * 2` passes the checker; cel-js parses a long
 * `!` chain without recursing), then throws or gives no bool when evaluated: it must load or be
 * refused, and an evaluation must end quickly in a bool or a CelEvaluationError.
 */
function celThatMayLoad(rng: Rng): string {
  return rng.pick<() => string>([
    () => rng.pick(["int('x') == 1", 'event.missing.x == 1', '1 / 0 == 1', "status + 1 == 'ok1'", 'size(items) > 0', 'no_such_field == 3', 'dyn(status) > 3', 'type(status) == int', 'duration_ms * 2', 'items.map(i, i * 2)']),
    () => '!'.repeat(rng.int(40, 1_900)) + 'true',
    () => `items.all(a, items.exists(b, a == b && ${'!'.repeat(rng.int(1, 30))}true))`,
  ])();
}

// --- generators -----------------------------------------------------------------------------

function mutate(rng: Rng): Case {
  const doc = parseDocument(BASE);
  const op = rng.pick(['wrong-type', 'wrong-type', 'hostile-string', 'unknown-field', 'missing-required', 'cel', 'cel', 'cel-may-load', 'huge-number', 'list-item']);
  let what = '';
  const set = (p: Path, v: unknown) => {
    what = `${p.join('.')} = ${typeof v === 'string' ? JSON.stringify(v.slice(0, 100)) : String(v)}`;
    doc.setIn(p, doc.createNode(v));
  };
  let mustFail = true;
  switch (op) {
    case 'wrong-type': {
      const site = rng.pick(SITES).path;
      const value = anywhereWrong(rng);
      set(site, value);
      // `- correlation:` without options is valid: every correlation option has a default.
      if (value === null && site.join('.') === 'spec.enrich.0.correlation') mustFail = false;
      break;
    }
    case 'hostile-string': {
      const site = rng.pick(SITES.filter((s) => typeof s.value !== 'string' || (!FREE_STRINGS.has(String(s.path[s.path.length - 1])) && !isCelSite(s.path))));
      set(site.path, hostileString(rng));
      break;
    }
    case 'unknown-field': {
      const at = rng.pick(MAP_SITES);
      const key = rng.pick(['zz-' + rng.text(6), '__proto__', 'constructor', 'toString', 'hasOwnProperty', '', ' ', '🙂', 'k'.repeat(300), '\u0000']);
      const target = at.length === 0 ? doc : doc.getIn(at);
      (target as { set(k: unknown, v: unknown): void }).set(doc.createNode(key), doc.createNode(rng.chance(0.5) ? anywhereWrong(rng) : rng.text(4)));
      break;
    }
    case 'missing-required':
      doc.deleteIn(rng.pick(REQUIRED));
      break;
    case 'cel':
      set(rng.pick(CEL_SITES), hostileCel(rng));
      break;
    case 'cel-may-load':
      set(rng.pick(CEL_SITES), celThatMayLoad(rng));
      mustFail = false;
      break;
    case 'huge-number': {
      const numeric = SITES.filter((s) => typeof s.value === 'number');
      set(rng.pick(numeric).path, rng.pick([1e12, -1e12, 1e308 * 10, -0.0001, 2 ** 53 + 1, -1]));
      // 1e12 is a fine threshold, minEvents or version: those may load.
      mustFail = false;
      break;
    }
    case 'list-item': {
      const lists = SITES.filter((s) => Array.isArray(s.value) && (s.value as unknown[]).length > 0);
      const site = rng.pick(lists);
      set([...site.path, rng.int(0, (site.value as unknown[]).length - 1)], anywhereWrong(rng));
      break;
    }
  }
  return { name: `mutation:${op}`, text: doc.toString({ lineWidth: 0 }), mustFail, what };
}

function laughs(rng: Rng): string {
  const width = rng.int(5, 12);
  const levels = rng.int(4, 9);
  const lines = [`l0: &l0 ["${rng.text(8)}"]`];
  for (let i = 1; i <= levels; i++) lines.push(`l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(', ')}]`);
  lines.push(rng.chance(0.5) ? `spec: *l${levels}` : `metadata: { name: *l${levels} }`);
  return lines.join('\n') + '\n';
}

function raw(rng: Rng): Case {
  const kind = rng.pick([
    'empty', 'scalar', 'binary', 'invalid-utf8', 'laughs', 'laughs-map', 'undefined-alias', 'deep-flow', 'deep-block', 'duplicate-keys',
    'many-keys', 'too-big', 'big-string', 'tabs', 'unterminated', 'multi-doc', 'directives', 'tags', 'merge-key', 'truncated', 'nul', 'random-edit',
  ]);
  const t = (text: string, mustFail = true): Case => ({ name: `raw:${kind}`, text, mustFail });
  const outputsAt = BASE.indexOf('  outputs:');
  switch (kind) {
    case 'empty':
      return t(rng.pick(['', ' ', '\n\n\n', '# only a comment\n', '---\n', '...\n', '\ufeff']));
    case 'scalar':
      return t(rng.pick(['~', 'null', '[]', '{}', '42', '"a string"', 'true', '- a\n- b\n', '!!binary aGVsbG8=', '.nan']));
    case 'binary':
      return t(rng.bytes(rng.int(1, 20_000)).toString('latin1'));
    case 'invalid-utf8':
      return t(Buffer.concat([Buffer.from(BASE.slice(0, rng.int(0, outputsAt))), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80])]).toString('utf8'));
    case 'laughs':
      return t(laughs(rng) + BASE.replace(/^spec:/m, 'spec2:'));
    case 'laughs-map':
      return t(`a: &a { x: 1, y: 2 }\nb: &b { a1: *a, a2: *a, a3: *a, a4: *a, a5: *a, a6: *a, a7: *a, a8: *a }\nc: &c { b1: *b, b2: *b, b3: *b, b4: *b, b5: *b, b6: *b, b7: *b, b8: *b }\nd: { c1: *c, c2: *c, c3: *c, c4: *c, c5: *c, c6: *c, c7: *c, c8: *c }\n`);
    case 'undefined-alias':
      return t(BASE.replace('version: 3', 'version: *nowhere'));
    case 'deep-flow': {
      const n = rng.int(65, 150_000);
      const [open, close] = rng.pick([['[', ']'], ['{a: ', '}']]);
      return t(BASE.replace('groupBy: [region]', `groupBy: ${open.repeat(n)}region${close.repeat(rng.chance(0.8) ? n : 0)}`).slice(0, MAX_TOPOLOGY_BYTES));
    }
    case 'deep-block': {
      const n = rng.int(100, 1_400);
      let text = 'metadata:\n';
      for (let i = 1; i < n && text.length < MAX_TOPOLOGY_BYTES - 2 * n; i++) text += ' '.repeat(i) + `k${i}:\n`;
      return t(text);
    }
    case 'duplicate-keys':
      return t(BASE + `\n${Array.from({ length: rng.int(1, 60_000) }, () => 'apiVersion: tracklane/v1').join('\n')}\n`);
    case 'many-keys':
      return t(BASE.replace('metadata: { name: checkout, version: 3 }', `metadata:\n  name: checkout\n  version: 3\n${Array.from({ length: rng.int(1_000, 60_000) }, (_, i) => `  k${i}: ${i}`).join('\n')}`));
    case 'too-big':
      return t(BASE + '#' + 'x'.repeat(MAX_TOPOLOGY_BYTES));
    case 'big-string':
      return t(BASE.replace('name: checkout,', `name: "${'n'.repeat(rng.int(100_000, MAX_TOPOLOGY_BYTES - BASE.length - 10))}",`));
    case 'tabs':
      return t(BASE.replace('  sources:', '\tsources:'));
    case 'unterminated':
      return t(BASE.replace(`"status == 'ok'"`, `"status == 'ok'`));
    case 'multi-doc':
      return t(`${BASE}\n---\n${BASE}`);
    case 'directives':
      return t(`${rng.pick(['%YAML 9.9', '%TAG ! tag:evil.example,2000:', '%FOO bar'])}\n---\n${BASE}`, false);
    case 'tags':
      return t(BASE.replace('version: 3', `version: ${rng.pick(['!!binary aGVsbG8=', '!!js/function "function(){}"', '!!timestamp 2001-12-14', '!!set {a, b}', '!!omap [a: 1]', '!custom 3', '!!int "x"', '!!float .inf'])}`));
    case 'merge-key':
      return t(`base: &base { name: web }\n${BASE.replace('    - name: web', '    - <<: *base')}`);
    case 'truncated':
      return t(BASE.slice(0, rng.int(0, outputsAt)));
    case 'nul': {
      const at = rng.int(0, BASE.length - 1);
      return t(BASE.slice(0, at) + '\u0000' + BASE.slice(at), false);
    }
    default: {
      // A few characters replaced anywhere (a comment or a URL may take it): valid or a clean error.
      let text = BASE;
      for (let n = rng.int(1, 6); n > 0; n--) {
        const at = rng.int(0, text.length - 1);
        text = text.slice(0, at) + rng.pick([':', '-', '{', ']', '"', "'", '&', '*', '!', '|', '>', '%', '@', '`', '\t', '\n', ' ', 'x', '9']) + text.slice(at + 1);
      }
      return t(text, false);
    }
  }
}

function fileCases(dir: string): Case[] {
  const cases: Case[] = [
    { name: 'file:missing', file: path.join(dir, 'does-not-exist.yaml'), mustFail: true },
    { name: 'file:directory', file: dir, mustFail: true },
    { name: 'file:dev-zero', file: '/dev/zero', mustFail: true },
    { name: 'file:dev-null', file: '/dev/null', mustFail: true },
  ];
  const write = (name: string, content: string | Buffer) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, content);
    return f;
  };
  cases.push({ name: 'file:empty', file: write('empty.yaml', ''), mustFail: true });
  cases.push({ name: 'file:too-big', file: write('big.yaml', BASE + '#' + 'x'.repeat(MAX_TOPOLOGY_BYTES)), mustFail: true });
  cases.push({ name: 'file:binary', file: write('binary.yaml', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))), mustFail: true });
  const loop = path.join(dir, 'loop.yaml');
  fs.symlinkSync(loop, loop);
  cases.push({ name: 'file:symlink-loop', file: loop, mustFail: true });
  try {
    const fifo = path.join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    cases.push({ name: 'file:fifo', file: fifo, mustFail: true });
  } catch {
    // no mkfifo here: the device cases cover "never ends"
  }
  return cases;
}

// --- checks ---------------------------------------------------------------------------------

const POSITIONED = (file: string) => new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+ `);
const event = { status: 'ok', type: 'checkout', duration_ms: 120, region: 'eu', items: [1, 2, 3] };

interface Outcome { loaded?: Topology; error?: unknown; ms: number }

function run(c: Case): Outcome {
  const t0 = performance.now();
  try {
    const loaded = c.file !== undefined ? loadTopology(c.file) : loadTopologyText(c.text!, AS_FILE);
    return { loaded, ms: performance.now() - t0 };
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
}

/** Problems with one outcome; empty when the loader behaved. */
function judge(c: Case, o: Outcome): string[] {
  const problems: string[] = [];
  // Hang guards, not performance figures: generous, because CI shares 2 cores with a broker.
  const bound = (c.text?.length ?? 0) > BIG ? 60_000 : 15_000;
  if (o.ms > bound) problems.push(`took ${Math.round(o.ms)} ms (bound ${bound})`);
  if (({} as Record<string, unknown>).polluted !== undefined || Object.keys(Object.prototype).length > 0) problems.push('Object.prototype was modified');
  if (o.loaded) {
    if (c.mustFail) problems.push('loaded, but the case is invalid');
    // What loads is evaluated once: a CEL that throws must throw CelEvaluationError, and quickly.
    for (const sli of o.loaded.slis) {
      for (const expr of sli.kind === 'ratio' ? [sli.good, sli.total] : sli.filter ? [sli.filter] : []) {
        const t0 = performance.now();
        try {
          compileCel(expr).evaluate(event);
        } catch (err) {
          if (!(err instanceof CelEvaluationError)) problems.push(`CEL "${expr.slice(0, 60)}" threw ${(err as Error).name}: ${(err as Error).message.slice(0, 80)}`);
        }
        if (performance.now() - t0 > 5_000) problems.push(`CEL "${expr.slice(0, 60)}" took ${Math.round(performance.now() - t0)} ms for one event`);
      }
    }
    return problems;
  }
  if (!(o.error instanceof UserError)) {
    problems.push(`threw ${(o.error as Error)?.name}: ${String((o.error as Error)?.message).slice(0, 200)}`);
    return problems;
  }
  const details = o.error.details;
  if (details.length === 0) problems.push('UserError without details');
  const file = c.file ?? AS_FILE;
  const at = c.file !== undefined ? new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(:\\d+:\\d+)?[: ]`) : POSITIONED(file);
  const unpositioned = details.filter((d) => !at.test(d));
  if (unpositioned.length > 0) problems.push(`detail without file:line:col: ${unpositioned[0].slice(0, 160)}`);
  return problems;
}

describe(`topology fuzzing (seed ${SEED})`, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-topology-fuzz-'));
  const rng = createRng(SEED);
  const cases: Case[] = [
    ...Array.from({ length: MUTATIONS }, () => mutate(rng)),
    ...Array.from({ length: RAW_CASES }, () => raw(rng)),
    ...fileCases(dir),
  ];

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('answers every hostile file with a positioned UserError, in time, in-process', () => {
    const failures: string[] = [];
    const kinds = new Map<string, { n: number; rejected: number; maxMs: number }>();
    for (const [i, c] of cases.entries()) {
      const o = run(c);
      const k = kinds.get(c.name) ?? { n: 0, rejected: 0, maxMs: 0 };
      kinds.set(c.name, { n: k.n + 1, rejected: k.rejected + (o.loaded ? 0 : 1), maxMs: Math.max(k.maxMs, o.ms) });
      for (const p of judge(c, o)) failures.push(`#${i} ${c.name}: ${p}${c.what ? ` (${c.what})` : ''}`);
    }
    const rejected = [...kinds.values()].reduce((a, k) => a + k.rejected, 0);
    console.log(
      `topology-fuzz: seed ${SEED} (replay with FUZZ_SEED=${SEED}); ${cases.length} cases, ${rejected} rejected with UserError, ${cases.length - rejected} loaded (cases that may be valid)\n` +
        [...kinds].sort().map(([name, k]) => `  ${name}: ${k.n} cases, ${k.rejected} rejected, slowest ${Math.round(k.maxMs)} ms`).join('\n'),
    );
    expect(failures.slice(0, 20)).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(MUTATIONS + RAW_CASES);
  });

  it('exits 1 from `tracklane check` with positions on stderr and no stack trace', () => {
    const bin = path.join(ROOT, 'bin/tracklane.js');
    const textCases = cases.filter((c) => c.text !== undefined && c.mustFail && c.text.length < BIG);
    const sample: Array<{ name: string; file: string; positioned: boolean }> = [];
    for (let i = 0; i < CLI_SAMPLE - 3 && textCases.length > 0; i++) {
      const c = textCases[(i * 7919 + SEED) % textCases.length];
      const file = path.join(dir, `cli-${i}.yaml`);
      fs.writeFileSync(file, c.text!);
      sample.push({ name: c.name, file, positioned: true });
    }
    for (const name of ['file:missing', 'file:directory', 'file:dev-zero']) {
      const c = cases.find((x) => x.name === name)!;
      sample.push({ name, file: c.file!, positioned: false });
    }
    const failures: string[] = [];
    for (const s of sample) {
      const r = spawnSync(process.execPath, [bin, 'check', '-t', s.file], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, LOG_LEVEL: 'info' } });
      const stderr = r.stderr ?? '';
      if (r.status !== 1) failures.push(`${s.name}: exit ${r.status} (${r.signal ?? ''}) ${stderr.slice(0, 200)}`);
      if (/^ {4}at /m.test(stderr)) failures.push(`${s.name}: stack trace on stderr`);
      const lines = stderr.split('\n').filter((l) => l.startsWith(s.file));
      const at = s.positioned ? new RegExp(`^${s.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+ `) : new RegExp(`^${s.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `);
      if (lines.length === 0 || !lines.every((l) => at.test(l))) failures.push(`${s.name}: stderr does not name a position: ${stderr.slice(0, 200)}`);
    }
    console.log(`topology-fuzz: ${sample.length} files through \`tracklane check\`: ${sample.length - failures.length} clean`);
    expect(failures).toEqual([]);
  });
});

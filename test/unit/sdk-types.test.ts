import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import ts from 'typescript';
import { registerSdk } from '../../src/cli/sdk';
import type { Registry } from '../../src/decode/registry';
import { createTracker, DataError } from '../../src/sdk';
import { eventTypeDeclarations, sourceEventSchemas } from '../../src/sdk/types-gen';
import { loadTopology } from '../../src/topology/load';

// `tracklane sdk types`: the generated .d.ts, compiled with a service's usage by the
// TypeScript compiler, accepts what the tracker accepts at run time and rejects the rest.

const REPO = path.resolve(__dirname, '../..');
const SDK = path.join(REPO, 'src/sdk');
let dir: string;
let topologyFile: string;

const noRegistry = (): Registry => {
  throw new Error('every source here has a schema file: the registry must not be asked');
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-sdk-types-'));
  fs.copyFileSync(path.join(REPO, 'test/fixtures/sdk-order-types.avsc'), path.join(dir, 'orders.avsc'));
  fs.copyFileSync(path.join(REPO, 'schemas/checkout-event.avsc'), path.join(dir, 'checkout.avsc'));
  topologyFile = path.join(dir, 'shop.yaml');
  fs.writeFileSync(topologyFile, `apiVersion: tracklane/v1
kind: Topology
metadata: { name: sdk-types, version: 1 }
spec:
  delivery: at-least-once
  sources:
    - { name: orders, topic: raw.orders, schema: orders.avsc, eventTime: { field: ts }, idempotencyKey: event_id }
    - { name: web, topic: raw.web, schema: checkout.avsc, eventTime: { field: ts }, idempotencyKey: event_id }
  outputs:
    enriched:   { topic: enriched.sdk-types }
    deadLetter: { topic: dlq.sdk-types }
    metrics:    { topic: metrics.sdk-types }
    alerts:     { topic: alerts.sdk-types }
`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Source text of a JS value, with Dates as `new Date(ms)`. */
function literal(v: unknown): string {
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
  if (v && typeof v === 'object') return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${literal(x)}`).join(', ')} }`;
  return JSON.stringify(v);
}

/** Compiles each usage file against the generated declarations; the diagnostics per file. */
function compile(files: Record<string, string>): Record<string, string[]> {
  const roots = Object.entries(files).map(([name, text]) => {
    const file = path.join(dir, `${name}.ts`);
    fs.writeFileSync(file, text);
    return file;
  });
  const program = ts.createProgram(roots, {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16, esModuleInterop: true, skipLibCheck: true,
    resolveJsonModule: true, types: ['node'], typeRoots: [path.join(REPO, 'node_modules/@types')],
  });
  const out: Record<string, string[]> = {};
  for (const [i, name] of Object.keys(files).entries()) {
    const source = program.getSourceFile(roots[i])!;
    out[name] = ts.getPreEmitDiagnostics(program, source).map((d) => {
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      return `line ${line}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
  }
  return out;
}

const usage = (body: string) => `import { createTracker } from ${JSON.stringify(SDK)};
import type { PlacedOrder, CheckoutEvent } from './events';
export async function use(): Promise<void> {
${body}
}
`;

const order = {
  channel: 'web', total_cents: 4200, note: null, shipping: { city: 'Oslo' },
  lines: [{ sku: 'A-1', quantity: 2, shipped_at: new Date(1_700_000_000_000) }, { sku: 'B-2', quantity: 1, shipped_at: '2026-11-29T12:00:00Z' }],
  billing: { city: 'Bergen', postcode: '5003' }, attributes: { gift: 'yes' }, returned_channel: null,
};

describe('tracklane sdk types', () => {
  let declarations: string;

  beforeAll(async () => {
    declarations = eventTypeDeclarations(await sourceEventSchemas(loadTopology(topologyFile), noRegistry), 'shop.yaml');
    fs.writeFileSync(path.join(dir, 'events.d.ts'), declarations);
  });

  it('maps the Avro types: enums to literals, nested records to interfaces, nullable unions, arrays, maps, timestamps', () => {
    expect(declarations).toContain('export interface PlacedOrder {');
    expect(declarations).toContain('export interface CheckoutEvent {');
    expect(declarations).toContain("export type Channel = 'web' | 'app' | 'store';");
    expect(declarations).toMatch(/export interface Address \{\n {2}city: string;\n {2}postcode\?: string \| null;\n\}/);
    expect(declarations).toContain('  event_id?: string;'); // filled by the tracker
    expect(declarations).toContain('  ts?: number | Date | string;');
    expect(declarations).toContain('  total_cents: number;'); // long
    expect(declarations).toContain('  note: string | null;'); // nullable, no default: must be given
    expect(declarations).toContain('  coupon?: string | null;');
    expect(declarations).toContain('  billing?: Address | null;'); // a named type used again
    expect(declarations).toContain('  lines: Array<Line>;');
    expect(declarations).toContain('  shipped_at?: number | Date | string | null;');
    expect(declarations).toContain('  attributes?: Record<string, string>;');
    expect(declarations).toContain('export type Md5 = string;');
    expect(declarations.indexOf('interface PlacedOrder')).toBeLessThan(declarations.indexOf('interface Address'));
  });

  it('compiles a correct use, and makes wrong field types, unknown enum symbols, missing and misspelt fields compile errors', () => {
    const result = compile({
      good: usage(`  const tracker = createTracker<PlacedOrder>({ mode: 'memory' });
  await tracker.track(${literal(order)});
  const web = createTracker({ topic: 'raw.web', subject: 'raw.web-value' });
  await web.track<CheckoutEvent>({ type: 'checkout', status: 'ok', region: 'eu', duration_ms: 3, url: '/c', ts: new Date() });
  await web.track({ anything: 'goes', when: 'untyped' });
  const events: PlacedOrder[] = tracker.events();
  const report = await tracker.close();
  const again: PlacedOrder[] = report.events;
  void events; void again;`),
      wrongType: usage(`  const tracker = createTracker<PlacedOrder>({ mode: 'memory' });
  await tracker.track(${literal({ ...order, total_cents: '4200' })});`),
      wrongEnum: usage(`  const tracker = createTracker<PlacedOrder>({ mode: 'memory' });
  await tracker.track(${literal({ ...order, channel: 'fax' })});`),
      wrongNested: usage(`  const tracker = createTracker<PlacedOrder>({ mode: 'memory' });
  await tracker.track(${literal({ ...order, lines: [{ sku: 'A-1', quantity: '2' }] })});`),
      missing: usage(`  const tracker = createTracker<PlacedOrder>({ mode: 'memory' });
  await tracker.track(${literal({ ...order, shipping: undefined })});`),
      misspelt: usage(`  const tracker = createTracker<PlacedOrder>({ mode: 'memory' });
  await tracker.track(${literal({ ...order, totl_cents: 1 })});`),
      explicitType: usage(`  const web = createTracker({ topic: 'raw.web', subject: 'raw.web-value' });
  await web.track<CheckoutEvent>({ type: 'checkout', status: 'ok', region: 'eu', duration_ms: 'slow', url: '/c' });`),
    });
    expect(result.good).toEqual([]);
    expect(result.wrongType).toEqual([expect.stringMatching(/^line 5: TS2322 Type 'string' is not assignable to type 'number'/)]);
    expect(result.wrongEnum).toEqual([expect.stringMatching(/^line 5: TS2322 Type '"fax"' is not assignable to type 'Channel'/)]);
    expect(result.wrongNested).toEqual([expect.stringMatching(/^line 5: TS2322 Type 'string' is not assignable to type 'number'/)]);
    expect(result.missing).toEqual([expect.stringMatching(/^line 5: TS2322 Type 'undefined' is not assignable to type 'Address'/)]);
    expect(result.misspelt).toEqual([expect.stringMatching(/^line 5: TS2561 Object literal may only specify known properties, but 'totl_cents' does not exist in type 'PlacedOrder'. Did you mean to write 'total_cents'\?/)]);
    expect(result.explicitType).toEqual([expect.stringMatching(/^line 5: TS2322 Type 'string' is not assignable to type 'number'/)]);
  });

  it('agrees with the tracker at run time: what compiles is accepted, what does not is rejected', async () => {
    const tracker = createTracker({ mode: 'memory', schema: path.join(dir, 'orders.avsc') });
    await expect(tracker.track(order)).resolves.toBeUndefined();
    const [kept] = tracker.events() as Array<Record<string, unknown>>;
    expect((kept.lines as Array<{ shipped_at: unknown }>)[0].shipped_at).toBeInstanceOf(Date); // kept as tracked; encoded as epoch ms
    for (const [wrong, field] of [
      [{ ...order, total_cents: '4200' }, '/total_cents'],
      [{ ...order, channel: 'fax' }, '/channel'],
      [{ ...order, lines: [{ sku: 'A-1', quantity: '2' }] }, '/lines/0/quantity'],
      [{ ...order, shipping: undefined }, '/shipping'],
      [{ ...order, totl_cents: 1 }, '/totl_cents'],
    ] as const) {
      await expect(tracker.track(wrong)).rejects.toMatchObject({ constructor: DataError, code: 'VALIDATION_FAILED', path: field });
    }
    const { note: _note, ...withoutNote } = order;
    await expect(tracker.track(withoutNote)).rejects.toMatchObject({ path: '/note' }); // nullable without default: required, as typed
  });

  it('runs as `tracklane sdk types -t FILE --source NAME -o FILE`', async () => {
    const out = path.join(dir, 'gen', 'orders.d.ts');
    const program = new Command().exitOverride();
    registerSdk(program);
    const before = process.exitCode;
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync(['node', 'tracklane', 'sdk', 'types', '-t', topologyFile, '--source', 'orders', '-o', out]);
      expect(process.exitCode).toBe(0);
      const text = fs.readFileSync(out, 'utf8');
      expect(text).toContain('export interface PlacedOrder {');
      expect(text).not.toContain('CheckoutEvent');
      await program.parseAsync(['node', 'tracklane', 'sdk', 'types', '-t', topologyFile, '--source', 'nope']);
      expect(process.exitCode).toBe(1);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain('no source named nope');
    } finally {
      stderr.mockRestore();
      process.exitCode = before;
    }
  });
});

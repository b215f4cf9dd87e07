import crypto from 'node:crypto';
import path from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import avro from 'avsc';
import * as tracklane from '../../src';
import { createTracker, DataError, UserError, withTraceparent, uuidv7Time } from '../../src/sdk';

// The SDK inside a service's own tests: `mode: 'memory'` (no Kafka, no registry), the trace
// context from OpenTelemetry, the exported error classes, and no process hooks by default.

const REPO = path.resolve(__dirname, '../..');
const CHECKOUT_SCHEMA = path.join(REPO, 'schemas/checkout-event.avsc');
const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const checkout = { type: 'checkout', status: 'ok', region: 'eu', duration_ms: 12, url: '/checkout', user_id: 'u-1' };
const hex = (bytes: number) => crypto.randomBytes(bytes).toString('hex');

interface Checkout { event_id?: string; ts?: number; type: string; status: string; region: string; duration_ms: number; url: string; user_id?: string | null; correlation_id?: string | null }

describe("createTracker({ mode: 'memory' })", () => {
  it('keeps events with the filled fields; clear() empties; close() reports; track() after close rejects with UserError', async () => {
    const before = Date.now();
    const tracker = createTracker<Checkout>({ mode: 'memory' });
    await tracker.track(checkout);
    await tracker.track({ ...checkout, event_id: 'mine-1', ts: new Date(5_000) as unknown as number });
    await tracker.flush();
    const [first, second] = tracker.events();
    expect(first).toMatchObject(checkout);
    expect(first.event_id).toMatch(UUIDV7);
    expect(uuidv7Time(first.event_id!)).toBeGreaterThanOrEqual(before - 1);
    expect(first.ts).toBeGreaterThanOrEqual(before);
    expect(first.correlation_id).toBeUndefined(); // no trace context
    expect(second).toMatchObject({ event_id: 'mine-1', ts: 5_000 });
    tracker.clear();
    expect(tracker.events()).toEqual([]);
    await tracker.track(checkout);
    await expect(tracker.close()).resolves.toEqual({ delivered: 3, undelivered: 0, events: [] });
    await expect(tracker.track(checkout)).rejects.toBeInstanceOf(UserError);
    expect(tracker.events()).toHaveLength(1);
  });

  it('validates against a schema file, a parsed schema or an avsc Type, as production would (DataError naming the field)', async () => {
    const parsed = JSON.parse(require('node:fs').readFileSync(CHECKOUT_SCHEMA, 'utf8'));
    for (const schema of [CHECKOUT_SCHEMA, parsed, avro.Type.forSchema(parsed)]) {
      const tracker = createTracker({ mode: 'memory', schema });
      await tracker.track(checkout);
      const wrong = tracker.track({ ...checkout, duration_ms: 'fast' });
      await expect(wrong).rejects.toBeInstanceOf(DataError);
      await expect(wrong).rejects.toMatchObject({ code: 'VALIDATION_FAILED', path: '/duration_ms', message: expect.stringContaining('field "duration_ms" expects int, got "fast"') });
      await expect(tracker.track({ ...checkout, regoin: 'eu' })).rejects.toMatchObject({ path: '/regoin' });
      await expect(tracker.track({ ...checkout, url: undefined })).rejects.toMatchObject({ path: '/url' });
      await expect(tracker.track([checkout])).rejects.toMatchObject({ path: '/' });
      expect(tracker.events()).toHaveLength(1); // rejected events are not kept
    }
  });

  it('validates against a JSON Schema too, and refuses a schema it cannot use at creation', async () => {
    const tracker = createTracker({ mode: 'memory', schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { event_id: { type: 'string' }, ts: { type: 'number' }, n: { type: 'integer' } }, required: ['n'], additionalProperties: false } });
    await tracker.track({ n: 1 });
    await expect(tracker.track({ n: 'one' })).rejects.toMatchObject({ path: '/n' });
    expect(tracker.events()[0]).toMatchObject({ n: 1, event_id: expect.stringMatching(UUIDV7) });
    expect(() => createTracker({ mode: 'memory', schema: path.join(REPO, 'no-such.avsc') })).toThrow(UserError);
    expect(() => createTracker({ mode: 'memory', schema: { type: 'record', name: 'X' } })).toThrow(/not a valid Avro schema/);
  });

  it('takes the correlation id from withTraceparent()', async () => {
    const tracker = createTracker<Checkout>({ mode: 'memory', schema: CHECKOUT_SCHEMA });
    const traceId = hex(16);
    await withTraceparent(`00-${traceId}-${hex(8)}-01`, () => tracker.track(checkout));
    expect(tracker.events()[0].correlation_id).toBe(traceId);
  });
});

describe('trace context from @opentelemetry/api', () => {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => context.setGlobalContextManager(manager.enable()));
  afterAll(() => {
    manager.disable();
    context.disable();
  });

  const inSpan = <R>(traceId: string, fn: () => R): R =>
    context.with(trace.setSpan(context.active(), trace.wrapSpanContext({ traceId, spanId: hex(8), traceFlags: 1 })), fn);

  it("an active span's trace id becomes the correlation id, across awaits", async () => {
    const tracker = createTracker<Checkout>({ mode: 'memory', schema: CHECKOUT_SCHEMA });
    const traceId = hex(16);
    await inSpan(traceId, async () => {
      await new Promise((r) => setTimeout(r, 5)); // the span stays active through the request's awaits
      await tracker.track(checkout);
    });
    await tracker.track({ ...checkout, user_id: 'outside' }); // no span: none
    const [inside, outside] = tracker.events();
    expect(inside.correlation_id).toBe(traceId);
    expect(outside.correlation_id).toBeUndefined(); // nothing filled (the schema's default applies when encoding)
  });

  it('an explicit withTraceparent() wins over the active span; an invalid span is ignored', async () => {
    const tracker = createTracker<Checkout>({ mode: 'memory' });
    const explicit = hex(16);
    await inSpan(hex(16), () => withTraceparent(`00-${explicit}-${hex(8)}-01`, () => tracker.track(checkout)));
    await inSpan('0'.repeat(32), () => tracker.track(checkout));
    const [a, b] = tracker.events();
    expect(a.correlation_id).toBe(explicit);
    expect(b.correlation_id).toBeUndefined();
  });
});

describe('the package entry', () => {
  it('exports the error classes track() and close() reject with', () => {
    expect(tracklane.DataError).toBe(DataError);
    expect(tracklane.UserError).toBe(UserError);
    expect(new tracklane.InfrastructureError('kafka', 'x')).toBeInstanceOf(tracklane.TracklaneError);
  });

  it('adds no process listener on import or createTracker(); handleSignals: true adds SIGTERM and beforeExit, close() removes them', async () => {
    const count = () => process.listenerCount('SIGTERM') + process.listenerCount('beforeExit');
    const before = count();
    jest.isolateModules(() => require('../../src'));
    expect(count()).toBe(before);
    // Kafka mode connects on the first event only: none here, so this runs without a broker.
    const quiet = createTracker({ topic: 'raw.none', subject: 'raw.none-value' });
    expect(count()).toBe(before);
    const hooked = createTracker({ topic: 'raw.none', subject: 'raw.none-value', handleSignals: true });
    expect(count()).toBe(before + 2);
    await expect(hooked.close()).resolves.toEqual({ delivered: 0, undelivered: 0, events: [] });
    expect(count()).toBe(before);
    await quiet.close();
  });
});

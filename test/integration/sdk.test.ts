import crypto from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { initTopology } from '../../src/engine/provision';
import { Engine } from '../../src/engine';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createTracker, withTraceparent, currentTraceparent, uuidv7Time, InfrastructureError, type Tracker, type TracklaneError } from '../../src/sdk';
import { loadTopology } from '../../src/topology/load';
import { createCheckoutServer } from '../../examples/checkout-service/server';
import { writeFixture, type Fixture } from '../helpers/engine-fixture';
import { consumeAll, deleteTopics, kafka } from '../helpers/stack-env';
import { decode, readDecoded, type DeadLetter, type Enriched } from '../helpers/outputs';
import { startTsChild } from '../helpers/ts-child';

// Issue 8: the producer SDK, driven through the example checkout service, into a real
// topology run by the engine in-process. The fixture's source schema is replaced by the
// demo's checkout schema so the example produces exactly what it would in production.

Object.assign(process.env, { TRACKLANE_PSEUDONYM_KEYS: 'k1:sdk-test-secret-0123456789abcdef' });

const REPO = path.resolve(__dirname, '../..');
const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const traceparent = () => `00-${crypto.randomBytes(16).toString('hex')}-${crypto.randomBytes(8).toString('hex')}-01`;

type Checkout = Enriched & { user_id: string | null; amount_cents: number | null; correlation_id: string | null; url: string };

describe('producer SDK through the example checkout service', () => {
  let f: Fixture;
  let engine: Engine | undefined;
  let tracker: Tracker;
  let server: http.Server;
  let base: string;
  const sent = new Map<string, string | undefined>(); // user_id -> traceparent
  const started = Date.now();

  beforeAll(async () => {
    f = writeFixture();
    fs.copyFileSync(path.join(REPO, 'schemas/checkout-event.avsc'), path.join(f.dir, 'order.avsc'));
    await initTopology(loadTopology(f.file));
    engine = new Engine({ topology: loadTopology(f.file), metricsPort: 0, instanceId: 'sdk-test' });
    await engine.start();
    tracker = createTracker({ topic: f.raw, subject: f.subject, handleSignals: false, batchSize: 20, lingerMs: 20 });
    server = createCheckoutServer(tracker).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server?.close();
    await tracker?.close();
    await engine?.stop();
    await deleteTopics(f.topics);
    fs.rmSync(f.dir, { recursive: true, force: true });
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/checkout`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('accepts checkouts and produces them enriched, correlated by traceparent, keyed by a UUIDv7, with no dead letters', async () => {
    const responses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const user = `u-${i}`;
        const tp = i < 50 ? traceparent() : undefined; // the last ten come without trace context
        sent.set(user, tp);
        return post({ region: ['eu', 'us'][i % 2], amount_cents: 1000 + i, user_id: user, email: `p${i}@mail.example.org` }, tp ? { traceparent: tp } : {});
      }),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(60).fill(202));
    await tracker.flush();

    const enriched = await readDecoded<Checkout>(f.enriched, { expected: 60 });
    expect(enriched).toHaveLength(60);
    for (const { message, value } of enriched) {
      const tp = sent.get(value.user_id!);
      expect(value.event_id).toMatch(UUIDV7);
      expect(uuidv7Time(value.event_id)).toBeGreaterThanOrEqual(started - 1);
      expect(message.key!.toString()).toBe(value.event_id);
      expect(value.ts).toBeGreaterThanOrEqual(started);
      expect(value.url).toBe('/checkout');
      expect(value.email).toMatch(/^k1:[0-9a-f]{64}$/);
      if (tp) {
        const traceId = tp.split('-')[1];
        expect(value.correlation_id).toBe(traceId);
        expect(value.tracklane.correlation_id).toBe(traceId);
        expect(value.tracklane.correlation_generated).toBe(false);
      } else {
        expect(value.correlation_id).toBeNull();
        expect(value.tracklane.correlation_generated).toBe(true);
      }
    }
    expect(new Set(enriched.map((e) => e.value.user_id))).toEqual(new Set(sent.keys()));

    const raw = await consumeAll(f.raw, { readCommitted: false, expected: 60 });
    for (const m of raw) {
      const v = await decode<Checkout>(m);
      expect(m.headers?.traceparent?.toString()).toBe(sent.get(v.user_id!));
    }
    const letters = await readDecoded<DeadLetter>(f.dlq, { idleMs: 2000, timeoutMs: 20_000 });
    expect(letters).toHaveLength(0);
  });

  it('answers 422 naming the field when the request cannot make a valid event', async () => {
    const res = await post({ region: 'eu', amount_cents: 'lots' });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: string; field: string };
    expect(body.field).toBe('/amount_cents');
    expect(body.error).toContain('amount_cents');
  });

  it('rejects events that do not fit the schema, naming the field', async () => {
    const ok = { type: 'checkout', status: 'ok', region: 'eu', duration_ms: 5, url: '/x' };
    await expect(tracker.track({ ...ok, duration_ms: 'fast' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', path: '/duration_ms', message: expect.stringContaining('field "duration_ms" expects int, got "fast"') });
    await expect(tracker.track({ ...ok, url: undefined })).rejects.toMatchObject({ path: '/url', message: expect.stringContaining('"url" is missing') });
    await expect(tracker.track({ ...ok, regoin: 'eu' })).rejects.toMatchObject({ path: '/regoin', message: expect.stringContaining('"regoin" is not in the schema') });
    await expect(tracker.track({ ...ok, ts: 'yesterday' })).rejects.toMatchObject({ path: '/ts', message: expect.stringContaining('field "ts"') });
    await expect(tracker.track({ ...ok, email: 42 })).rejects.toMatchObject({ path: '/email', message: expect.stringContaining('null or string') });
  });

  it('keeps an explicit idempotency key, event time (Date) and correlation id', async () => {
    const t = createTracker({ topic: f.raw, subject: f.subject, handleSignals: false });
    const ts = new Date(Date.now() - 1000);
    await withTraceparent(traceparent(), async () => {
      expect(currentTraceparent()).toBeDefined();
      await t.track({ event_id: 'explicit-1', ts, type: 'checkout', status: 'ok', region: 'eu', duration_ms: 1, url: '/x', correlation_id: 'corr-mine', user_id: 'explicit' });
    });
    await t.close();
    const enriched = await readDecoded<Checkout>(f.enriched, { expected: 61 });
    const mine = enriched.find((e) => e.value.event_id === 'explicit-1')!.value;
    expect(mine.ts).toBe(ts.getTime());
    expect(mine.tracklane.correlation_id).toBe('corr-mine');
    await expect(t.track({})).rejects.toThrow(/closed/);
  });

  it('makes track() wait while the queue is full, and delivers everything', async () => {
    const t = createTracker({ topic: f.raw, subject: f.subject, handleSignals: false, maxQueue: 3, batchSize: 10, lingerMs: 300 });
    let resolved = 0;
    const tracks = Array.from({ length: 20 }, (_, i) =>
      t.track({ type: 'checkout', status: 'ok', region: 'eu', duration_ms: i, url: '/bp', user_id: `bp-${i}` }).then(() => resolved++),
    );
    await new Promise((r) => setTimeout(r, 150)); // schema loaded, linger not yet over
    expect(resolved).toBe(3);
    await Promise.all(tracks);
    await t.close();
    const raw = await consumeAll(f.raw, { readCommitted: false, expected: 60 + 1 + 20 });
    const users = await Promise.all(raw.map(async (m) => (await decode<Checkout>(m)).user_id));
    expect(users.filter((u) => u?.startsWith('bp-')).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `bp-${i}`).sort());
  });

  describe('flushes when the process ends', () => {
    // A child process running the SDK from source (TypeScript transpiled on the fly).
    const child = (script: string) => startTsChild({ script });
    const script = (label: string, lingerMs: number, handleSignals = false) => `
const { createTracker } = require(${JSON.stringify(path.join(REPO, 'src/sdk'))});
const t = createTracker({ topic: ${JSON.stringify(f.raw)}, subject: ${JSON.stringify(f.subject)}, lingerMs: ${lingerMs}${handleSignals ? ', handleSignals: true' : ''} });
(async () => {
  for (let i = 0; i < 5; i++) await t.track({ type: 'checkout', status: 'ok', region: 'eu', duration_ms: i, url: '/exit', user_id: '${label}-' + i });
  process.stdout.write('queued\\n');
})().catch((e) => { console.error(e); process.exit(3); });
`;
    const usersWith = async (prefix: string, expected: number) => {
      const raw = await consumeAll(f.raw, { readCommitted: false, expected, idleMs: 2000 });
      const users = await Promise.all(raw.map(async (m) => (await decode<Checkout>(m)).user_id ?? ''));
      return users.filter((u) => u.startsWith(prefix + '-')).sort();
    };

    it('a script that never calls close() delivers and exits by itself, with no process hooks', async () => {
      const c = child(script('exit', 50));
      const result = await Promise.race([c.done, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
      if (result === 'hung') c.kill('SIGKILL');
      expect(result).toMatchObject({ code: 0 });
      expect(await usersWith('exit', 81 + 5)).toEqual(['exit-0', 'exit-1', 'exit-2', 'exit-3', 'exit-4']);
    });

    it('with handleSignals: true, on SIGTERM: queued events are delivered before the process goes', async () => {
      const c = child(script('term', 600_000, true)); // linger never ends by itself
      await c.waitFor(/queued/);
      c.kill('SIGTERM');
      const result = await c.done;
      expect(result.signal).toBe('SIGTERM');
      expect(await usersWith('term', 86 + 5)).toEqual(['term-0', 'term-1', 'term-2', 'term-3', 'term-4']);
    });
  });

  it('takes the trace context of an active OpenTelemetry span: correlation id and traceparent header', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const t = createTracker({ topic: f.raw, subject: f.subject });
      const traceId = crypto.randomBytes(16).toString('hex');
      const spanId = crypto.randomBytes(8).toString('hex');
      const span = trace.wrapSpanContext({ traceId, spanId, traceFlags: 1 });
      await context.with(trace.setSpan(context.active(), span), async () => {
        await new Promise((r) => setImmediate(r)); // as in a request handler, after an await
        await t.track({ type: 'checkout', status: 'ok', region: 'eu', duration_ms: 1, url: '/otel', user_id: 'otel-1' });
      });
      expect(await t.close()).toMatchObject({ delivered: 1, undelivered: 0 });
      const raw = await consumeAll(f.raw, { readCommitted: false, expected: 91 + 1 });
      const mine = (await Promise.all(raw.map(async (m) => ({ m, v: await decode<Checkout>(m) })))).find((x) => x.v.user_id === 'otel-1')!;
      expect(mine.v.correlation_id).toBe(traceId);
      expect(mine.m.headers?.traceparent?.toString()).toBe(`00-${traceId}-${spanId}-01`);
    } finally {
      manager.disable();
      context.disable();
    }
  });

  it('close() resolves by its deadline with the events it could not deliver, which can be sent again', async () => {
    const errors: TracklaneError[] = [];
    const t = createTracker({ topic: f.raw, subject: f.subject, brokers: ['127.0.0.1:1'], closeTimeoutMs: 1500, onError: (e) => errors.push(e) });
    await t.track({ event_id: 'lost-1', type: 'checkout', status: 'ok', region: 'eu', duration_ms: 1, url: '/lost', user_id: 'lost-1' });
    await t.track({ event_id: 'lost-2', type: 'checkout', status: 'ok', region: 'eu', duration_ms: 2, url: '/lost', user_id: 'lost-2' });
    const flushing = t.flush();
    const report = await t.close();
    await expect(flushing).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' }); // a pending flush() does not hang
    expect(report).toMatchObject({ delivered: 0, undelivered: 2, events: [{ event_id: 'lost-1', user_id: 'lost-1' }, { event_id: 'lost-2', user_id: 'lost-2' }] });
    expect(report.error).toBeInstanceOf(InfrastructureError);
    expect(report.error).toMatchObject({ code: 'KAFKA_UNAVAILABLE', message: expect.stringContaining('2 events not delivered') });
    expect(errors).toContain(report.error);
    await expect(t.close()).resolves.toBe(report);

    const again = createTracker({ topic: f.raw, subject: f.subject });
    for (const e of report.events) await again.track(e);
    expect(await again.close()).toEqual({ delivered: 2, undelivered: 0, events: [] });
    const raw = await consumeAll(f.raw, { readCommitted: false, expected: 92 + 2 });
    const users = await Promise.all(raw.map(async (m) => (await decode<Checkout>(m)).user_id));
    expect(users.filter((u) => u?.startsWith('lost-')).sort()).toEqual(['lost-1', 'lost-2']);
  });

  it('close() reports an event the broker refused (too large) among those it could not deliver', async () => {
    const topic = `${f.raw}-small`;
    const admin = kafka('tracklane-test-admin').admin();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '2048' }] }] });
    } finally {
      await admin.disconnect();
    }
    try {
      const errors: TracklaneError[] = [];
      const t = createTracker({ topic, subject: f.subject, onError: (e) => errors.push(e) });
      const event = (user: string, url: string) => ({ type: 'checkout', status: 'ok', region: 'eu', duration_ms: 1, url, user_id: user });
      await t.track(event('small', '/ok'));
      await t.track(event('big', '/' + 'x'.repeat(5000)));
      const report = await t.close();
      expect(report).toMatchObject({ delivered: 1, undelivered: 1, events: [{ user_id: 'big' }], error: { code: 'OVERSIZE' } });
      expect(errors.map((e) => e.code)).toEqual(['OVERSIZE']);
      const raw = await consumeAll(topic, { readCommitted: false, expected: 1 });
      expect(await Promise.all(raw.map(async (m) => (await decode<Checkout>(m)).user_id))).toEqual(['small']);
    } finally {
      await deleteTopics([topic]);
    }
  });
});

import crypto from 'node:crypto';
import fs from 'node:fs';
import avro from 'avsc';
import { ConfigResourceTypes, type IHeaders, type Message } from 'kafkajs';
import { initTopology } from '../../src/engine/provision';
import { writeWireFrame } from '../../src/decode/wire';
import type { DeadLetterReason } from '../../src/errors';
import { MAX_DEAD_LETTER_BYTES } from '../../src/sink/dead-letter';
import { loadTopology } from '../../src/topology/load';
import { ChildEngine, freePort } from '../helpers/child-engine';
import { ORDER_V1, ORDER_V2, registerVersions, writeFixture, type Fixture, type Order } from '../helpers/engine-fixture';
import { createRng, fuzzSeed, RssSampler, type Rng } from '../helpers/fuzz';
import { readDecoded, type DeadLetter, type Enriched } from '../helpers/outputs';
import { deleteTopics, kafka, registryUrl } from '../helpers/stack-env';

// Bad-input fuzzing (DESIGN.md section 8: bad input never crashes the engine and is never
// silently dropped). Ten thousand generated malformed records, with a few valid ones
// interleaved, go straight to the raw topic of a throw-away topology and through the real
// engine running as a child process (`npm run build` first). Every malformed record must
// come out as exactly one dead letter with the expected reason, every valid one enriched,
// the process must stay the same process throughout, and its memory bounded.
// FUZZ_SEED=<n> replays a run; FUZZ_INPUTS=<n> changes the count; FUZZ_DEBUG=1 prints progress
// and the engine's memory; FUZZ_CHILD_LOG=<file> keeps the engine's output.

const SEED = fuzzSeed();
const BAD_INPUTS = Number(process.env.FUZZ_INPUTS ?? 10_000);
const VALID_EVERY = 150;
const PARTITIONS = 3;
const MAX_VALUE_BYTES = 512 * 1024;
const PEAK_RSS_LIMIT_MB = 400;
const KEYS = { TRACKLANE_PSEUDONYM_KEYS: 'k1:fuzz-secret-0123456789abcdef' };
const MIN = 60_000;

const v1Type = avro.Type.forSchema(ORDER_V1);
const v2Type = avro.Type.forSchema(ORDER_V2);
const v2FromV1 = v2Type.createResolver(v1Type);
const OTHER = { type: 'record', name: 'Other', namespace: 'fuzz', fields: [{ name: 'x', type: 'int' }] } as const;
const otherType = avro.Type.forSchema(OTHER as unknown as avro.Schema);

interface Ids { v1: number; v2: number; other: number; json: number; protobuf: number; brokenJson: number }

interface Input {
  kind: string;
  expect: DeadLetterReason | 'enriched';
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
  timestamp?: string;
  eventId?: string;
  email?: string;
  offset?: string;
  /** Key, value and header bytes, once computed. */
  size?: number;
}

function order(rng: Rng, over: Partial<Order> = {}): Order {
  return {
    event_id: `ev-${rng.text(12)}`,
    ts: Date.now() - rng.int(1_000, 3_600_000),
    type: rng.pick(['checkout', 'view', 'refund']),
    status: rng.pick(['ok', 'error']),
    region: rng.pick(['eu', 'us']),
    duration_ms: rng.int(0, 5000),
    email: `fuzz-${rng.text(8)}@mail.example.org`,
    ip: `198.51.100.${rng.int(1, 254)}`,
    ...over,
  };
}

/** True when the engine's decode would accept this payload for the v2 id (then it is not a bad input). */
function decodesAsV2(payload: Buffer): boolean {
  try {
    v2Type.fromBuffer(payload);
    return true;
  } catch {
    return false;
  }
}

function nestedJson(rng: Rng): Buffer {
  const depth = rng.int(1_000, 20_000);
  const [open, close] = rng.pick([['[', ']'], ['{"a":', '}']]);
  const broken = rng.chance(0.3); // unbalanced on purpose, sometimes
  return Buffer.from(open.repeat(depth) + '1' + close.repeat(broken ? depth - 1 : depth));
}

function invalidUtf8(rng: Rng): Buffer {
  const pieces = [Buffer.from([0xff]), Buffer.from([0xc3, 0x28]), Buffer.from([0xe2, 0x28, 0xa1]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), Buffer.from('{"event_id":"')];
  return Buffer.concat(Array.from({ length: rng.int(1, 40) }, () => rng.pick(pieces)));
}

/** One malformed value and the reason its dead letter must carry. */
function badValue(rng: Rng, ids: Ids, limits: { recordBytes: number }, budget: { hugeBytes: number }): Pick<Input, 'kind' | 'expect' | 'value'> {
  const frame = (id: number, payload: Buffer) => writeWireFrame(id, payload);
  for (;;) {
    const kind = rng.pick(KINDS);
    switch (kind) {
      case 'random-bytes': {
        const v = rng.bytes(rng.int(0, 4096));
        if (v.length > 0 && v[0] === 0) v[0] = rng.int(1, 255);
        return { kind, expect: 'DECODE_FAILED', value: v };
      }
      case 'short-frame':
        return { kind, expect: 'DECODE_FAILED', value: Buffer.concat([Buffer.from([0]), rng.bytes(rng.int(0, 3))]) };
      case 'wrong-magic': {
        const v = frame(ids.v2, v2Type.toBuffer(order(rng)));
        v[0] = rng.int(1, 255);
        return { kind, expect: 'DECODE_FAILED', value: v };
      }
      case 'negative-id':
        return { kind, expect: 'UNKNOWN_SCHEMA_ID', value: frame(rng.chance(0.1) ? 0 : -rng.int(1, 0x7fffffff), v2Type.toBuffer(order(rng))) };
      case 'unknown-id':
        return { kind, expect: 'UNKNOWN_SCHEMA_ID', value: frame(rng.int(50_000_000, 0x7fffffff), rng.chance(0.5) ? v2Type.toBuffer(order(rng)) : rng.bytes(rng.int(0, 256))) };
      case 'other-record':
        return { kind, expect: 'SCHEMA_MISMATCH', value: frame(ids.other, otherType.toBuffer({ x: rng.int(-1000, 1000) })) };
      case 'json-schema-id':
        return { kind, expect: 'SCHEMA_MISMATCH', value: frame(ids.json, rng.pick([nestedJson, invalidUtf8, (r: Rng) => Buffer.from(JSON.stringify(order(r)))])(rng)) };
      case 'protobuf-id':
        return { kind, expect: 'SCHEMA_MISMATCH', value: frame(ids.protobuf, rng.bytes(rng.int(0, 64))) };
      case 'broken-json-schema-id':
        return { kind, expect: 'SCHEMA_MISMATCH', value: frame(ids.brokenJson, Buffer.from(JSON.stringify({ a: rng.int(0, 9) }))) };
      case 'truncated-avro': {
        const v1 = rng.chance(0.3);
        const payload = v1 ? v1Type.toBuffer(order(rng)) : v2Type.toBuffer(order(rng));
        return { kind, expect: 'DECODE_FAILED', value: frame(v1 ? ids.v1 : ids.v2, payload.subarray(0, rng.int(0, payload.length - 1))) };
      }
      case 'trailing-bytes':
        return { kind, expect: 'DECODE_FAILED', value: frame(ids.v2, Buffer.concat([v2Type.toBuffer(order(rng)), rng.bytes(rng.int(1, 64))])) };
      case 'mutated-avro': {
        const payload = Buffer.from(v2Type.toBuffer(order(rng)));
        for (let n = rng.int(1, 4); n > 0; n--) payload[rng.int(0, payload.length - 1)] = rng.int(0, 255);
        if (decodesAsV2(payload)) continue; // still a readable record: not a bad input
        return { kind, expect: 'DECODE_FAILED', value: frame(ids.v2, payload) };
      }
      case 'random-payload': {
        const payload = rng.bytes(rng.int(0, 512));
        if (decodesAsV2(payload)) continue;
        return { kind, expect: 'DECODE_FAILED', value: frame(ids.v2, payload) };
      }
      case 'nested-json': {
        const json = nestedJson(rng);
        if (rng.chance(0.5)) return { kind, expect: 'DECODE_FAILED', value: json };
        if (decodesAsV2(json)) continue;
        return { kind, expect: 'DECODE_FAILED', value: frame(ids.v2, json) };
      }
      case 'invalid-utf8':
        return { kind, expect: 'DECODE_FAILED', value: invalidUtf8(rng) };
      case 'tombstone':
        return { kind, expect: 'DECODE_FAILED', value: null };
      case 'bad-idempotency-key': {
        const event_id = rng.pick(['', ' ', '\t\n', 'x'.repeat(257), rng.text(rng.int(257, 2000))]);
        const v1 = rng.chance(0.3);
        const o = order(rng, { event_id });
        return { kind, expect: 'MISSING_IDEMPOTENCY_KEY', value: v1 ? frame(ids.v1, v1Type.toBuffer(o)) : frame(ids.v2, v2Type.toBuffer(o)) };
      }
      case 'bad-event-time': {
        const ts = rng.pick([0, -1, -rng.int(1, 2 ** 40), Date.now() + rng.int(3_600_000, 2 ** 40), 2 ** 52, -(2 ** 52)]); // avsc's long range
        return { kind, expect: 'EVENT_TIME_INVALID', value: frame(ids.v2, v2Type.toBuffer(order(rng, { ts }))) };
      }
      case 'huge': {
        // Up to the largest record the source topic accepts (a dead letter is a little larger).
        if (budget.hugeBytes <= 0) continue;
        const sub = rng.pick(['oversize-avro', 'oversize-near-limit', 'huge-idempotency-key', 'huge-string-future']);
        let v: Buffer;
        let expect: DeadLetterReason;
        if (sub === 'oversize-avro') {
          v = frame(ids.v2, v2Type.toBuffer(order(rng, { note: 'n'.repeat(rng.int(MAX_VALUE_BYTES, limits.recordBytes - 2_000)) })));
          expect = 'OVERSIZE';
        } else if (sub === 'oversize-near-limit') {
          v = rng.bytes(limits.recordBytes - rng.int(100, 400));
          expect = 'OVERSIZE';
        } else if (sub === 'huge-idempotency-key') {
          v = frame(ids.v2, v2Type.toBuffer(order(rng, { event_id: 'k'.repeat(rng.int(10_000, MAX_VALUE_BYTES - 1_000)) })));
          expect = 'MISSING_IDEMPOTENCY_KEY';
        } else {
          v = frame(ids.v2, v2Type.toBuffer(order(rng, { ts: Date.now() + 86_400_000, note: 'é'.repeat(rng.int(10_000, MAX_VALUE_BYTES / 2 - 1_000)) })));
          expect = 'EVENT_TIME_INVALID';
        }
        budget.hugeBytes -= v.length;
        return { kind: `huge:${sub}`, expect, value: v };
      }
    }
  }
}

const KIND_WEIGHTS: Record<string, number> = {
  'random-bytes': 10, 'short-frame': 3, 'wrong-magic': 8, 'negative-id': 5, 'unknown-id': 8, 'other-record': 4,
  'json-schema-id': 4, 'protobuf-id': 3, 'broken-json-schema-id': 2, 'truncated-avro': 10, 'trailing-bytes': 5,
  'mutated-avro': 10, 'random-payload': 6, 'nested-json': 2, 'invalid-utf8': 4, tombstone: 4,
  'bad-idempotency-key': 5, 'bad-event-time': 5, huge: 1,
};
const KINDS = Object.entries(KIND_WEIGHTS).flatMap(([k, w]) => Array<string>(w).fill(k));

const ODD_HEADER_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'traceparent', 'tracklane-reason', '', ' ', 'ü\u0000\u202e', '\ud800', 'x'.repeat(300)];

/** Garbage keys and headers go on any record, bad or valid: they must never matter. */
function garbageKey(rng: Rng, fallback: string): Buffer | null {
  const r = rng.next();
  if (r < 0.1) return null;
  if (r < 0.15) return Buffer.alloc(0);
  if (r < 0.45) return rng.bytes(rng.int(1, 64));
  if (r < 0.48) return rng.bytes(rng.int(1_000, 32_000));
  return Buffer.from(fallback);
}

function garbageHeaders(rng: Rng, roomBytes: number): IHeaders | undefined {
  const r = rng.next();
  if (r < 0.7) return undefined;
  const headers: IHeaders = {};
  // Defined, not assigned, so that `__proto__` is sent as a header like any other name.
  const set = (name: string, value: IHeaders[string]) => Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
  if (r < 0.8) {
    for (let n = rng.int(1, 8); n > 0; n--) set(rng.chance(0.5) ? rng.pick(ODD_HEADER_NAMES) : rng.bytes(rng.int(1, 16)).toString('latin1'), rng.bytes(rng.int(0, 256)));
  } else if (r < 0.88) {
    set(rng.pick(['big', 'traceparent', '__proto__']), rng.bytes(Math.min(roomBytes, rng.int(10_000, 200_000))));
  } else if (r < 0.95) {
    // Thousands of headers: kafkajs's own decoder was quadratic in them (src/source/kafkajs-patches/record-headers.ts).
    const n = Math.min(Math.floor(roomBytes / 40), rng.chance(0.05) ? rng.int(5_000, 20_000) : rng.int(50, 1_000));
    const pool = rng.bytes(64);
    for (let i = 0; i < n; i++) set(`h${i}-${rng.text(4)}`, pool.subarray(i % 48, (i % 48) + rng.int(0, 16)));
  } else {
    set(rng.pick(['traceparent', 'dup']), [rng.bytes(rng.int(0, 64)), Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), rng.bytes(8)]);
    if (!Object.prototype.hasOwnProperty.call(headers, 'traceparent')) {
      set('traceparent', Buffer.from(rng.pick(['00-zzzz-yyyy-01', '00-00000000000000000000000000000000-0000000000000000-00', 'ff'.repeat(200)])));
    }
  }
  return headers;
}

function recordSize(x: Input): number {
  return (x.size ??= (x.value?.length ?? 0) + (x.key?.length ?? 0) + headerBytes(x.headers));
}

function headerBytes(h: IHeaders | undefined): number {
  let n = 0;
  for (const [k, v] of Object.entries(h ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) n += Buffer.byteLength(k) + 10 + (one === undefined ? 0 : Buffer.byteLength(one as Buffer | string));
  }
  return n;
}

function generate(rng: Rng, ids: Ids, limits: { recordBytes: number }): Input[] {
  const inputs: Input[] = [];
  const budget = { hugeBytes: 24 * 1024 * 1024 };
  let bad = 0;
  for (let i = 0; bad < BAD_INPUTS; i++) {
    const partition = i % PARTITIONS;
    if (i % VALID_EVERY === VALID_EVERY - 1) {
      const o = order(rng, { event_id: `valid-${i}`, correlation_id: rng.chance(0.5) ? null : `corr-${i}` });
      const value = rng.chance(0.3) ? writeWireFrame(ids.v1, v1Type.toBuffer(o)) : writeWireFrame(ids.v2, v2Type.toBuffer(o));
      const key = garbageKey(rng, o.event_id);
      inputs.push({ kind: 'valid', expect: 'enriched', partition, key, value, headers: garbageHeaders(rng, 20_000), eventId: o.event_id, email: o.email! });
      continue;
    }
    const b = badValue(rng, ids, limits, budget);
    const room = limits.recordBytes - (b.value?.length ?? 0) - 1_000;
    const key = room > 40_000 ? garbageKey(rng, `bad-${i}`) : null;
    const headers = room > 40_000 ? garbageHeaders(rng, room - (key?.length ?? 0) - 1_000) : undefined;
    // Producer timestamps the broker accepts but that are odd: the epoch, long ago.
    const timestamp = rng.chance(0.03) ? rng.pick(['0', '1', String(Date.now() - 40 * 365 * 86_400_000)]) : undefined;
    inputs.push({ ...b, partition, key, headers, timestamp });
    bad++;
  }
  return inputs;
}

/**
 * Sends in order, one idempotent producer per partition (in parallel), and fills in each
 * input's offset from the broker's base offset of the batch it went in.
 */
async function produce(topic: string, inputs: Input[], recordBytes: number): Promise<void> {
  for (const input of inputs) {
    const size = recordSize(input) + 100;
    if (size > recordBytes) throw new Error(`generator made a ${size}-byte record, above the topic's ${recordBytes}`);
  }
  const partitions = [...new Set(inputs.map((x) => x.partition))];
  await Promise.all(
    partitions.map(async (partition) => {
      const producer = kafka(`tracklane-fuzz-${partition}`).producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        let batch: Input[] = [];
        let bytes = 0;
        const flush = async () => {
          if (batch.length === 0) return;
          const messages: Message[] = batch.map((b) => ({ partition, key: b.key, value: b.value, headers: b.headers, timestamp: b.timestamp }));
          const [meta] = await producer.send({ topic, messages, acks: -1 });
          let offset = BigInt(meta.baseOffset!);
          for (const b of batch) b.offset = (offset++).toString();
          batch = [];
          bytes = 0;
        };
        for (const input of inputs) {
          if (input.partition !== partition) continue;
          // One send is one record batch, which must stay under max.message.bytes.
          const size = recordSize(input) + 100;
          if (bytes + size > recordBytes * 0.8 || batch.length >= 1_000) await flush();
          batch.push(input);
          bytes += size;
        }
        await flush();
      } finally {
        await producer.disconnect();
      }
    }),
  );
}

async function register(subject: string, schemaType: 'JSON' | 'PROTOBUF', schema: string): Promise<number> {
  const res = await fetch(`${registryUrl()}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schemaType, schema }),
  });
  const body = (await res.json()) as { id?: number };
  if (!res.ok || typeof body.id !== 'number') throw new Error(`registering ${subject}: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

/** The largest record the topic takes (its max.message.bytes, else the broker's). */
async function recordLimit(topic: string): Promise<number> {
  const admin = kafka('tracklane-fuzz-admin').admin();
  await admin.connect();
  try {
    const r = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }] });
    return Number(r.resources[0].configEntries.find((e) => e.configName === 'max.message.bytes')!.configValue);
  } finally {
    await admin.disconnect();
  }
}

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
}

async function metricSum(port: number, name: string): Promise<number> {
  const text = await metricsText(port);
  return text.split('\n').filter((l) => l.startsWith(name)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
}

describe(`bad-input fuzzing through a child engine (seed ${SEED})`, () => {
  let f: Fixture | undefined;
  let child: ChildEngine | undefined;
  let rss: RssSampler | undefined;

  afterAll(async () => {
    rss?.stop();
    if (process.env.FUZZ_CHILD_LOG && child) fs.writeFileSync(process.env.FUZZ_CHILD_LOG, child.output);
    await child?.stop().catch(() => undefined);
    if (f) {
      await deleteTopics(f.topics).catch(() => undefined);
      fs.rmSync(f.dir, { recursive: true, force: true });
    }
  }, MIN);

  it('dead-letters every malformed record once with its reason, enriches the valid ones, and neither restarts nor grows', async () => {
    const t0 = Date.now();
    const debug = (what: string) => process.env.FUZZ_DEBUG && process.stderr.write(`${Math.round((Date.now() - t0) / 1000)} s: ${what}\n`);
    console.log(`fuzz-input: seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    f = writeFixture({ partitions: PARTITIONS, maxValueBytes: MAX_VALUE_BYTES });
    const { v1, v2, registry } = await registerVersions(f.subject);
    await initTopology(loadTopology(f.file));
    const ids: Ids = {
      v1, v2,
      other: await registry.register(`fuzz.${f.name}-other-value`, JSON.stringify(OTHER)),
      json: await register(`fuzz.${f.name}-json-value`, 'JSON', JSON.stringify({ type: 'object', properties: { a: { type: 'integer' } } })),
      // A JSON Schema the engine cannot compile, and a Protobuf schema: neither may stall a partition.
      brokenJson: await register(`fuzz.${f.name}-broken-value`, 'JSON', JSON.stringify({ type: 'object', properties: { a: { $ref: '#/definitions/nowhere' } } })),
      protobuf: await register(`fuzz.${f.name}-proto-value`, 'PROTOBUF', 'syntax = "proto3";\npackage fuzz;\nmessage Thing { string a = 1; }\n'),
    };
    const recordBytes = await recordLimit(f.raw);
    debug('topology, topics and schemas ready');
    const rng = createRng(SEED);
    const inputs = generate(rng, ids, { recordBytes });
    debug(`generated ${inputs.length} inputs`);
    const bad = inputs.filter((x) => x.expect !== 'enriched');
    const valid = inputs.filter((x) => x.expect === 'enriched');

    const port = await freePort();
    child = new ChildEngine(f.file, KEYS, 'fuzz', port);
    child.start();
    await child.waitForOutput(/running/, MIN);
    const pid = child.pid!;
    debug('engine running');
    rss = new RssSampler(pid, 500);
    rss.start();

    // FUZZ_DEBUG: the engine's memory as it goes (prom-client's process and heap gauges).
    const progress = process.env.FUZZ_DEBUG
      ? setInterval(async () => {
          const text = await metricsText(port).catch(() => '');
          const mb = (n: string) => Math.round(Number(new RegExp(`^${n}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 1048576);
          debug(`rss ${mb('process_resident_memory_bytes')} MB, heap used ${mb('nodejs_heap_size_used_bytes')} of ${mb('nodejs_heap_size_total_bytes')} MB, external ${mb('nodejs_external_memory_bytes')} MB`);
        }, 2_000)
      : undefined;
    await produce(f.raw, inputs, recordBytes);
    debug('produced');
    const tProduced = Date.now();
    // Wait until the engine has acknowledged an outcome for every input (or made no progress for a while).
    let done = 0;
    for (let last = -1, since = Date.now(); Date.now() - since < 45_000; ) {
      done = (await metricSum(port, 'tracklane_events_dead_lettered_total').catch(() => 0)) + (await metricSum(port, 'tracklane_events_enriched_total').catch(() => 0));
      if (done >= inputs.length) break;
      if (done !== last) (last = done), (since = Date.now());
      await new Promise((r) => setTimeout(r, 500));
    }
    console.log(`fuzz-input: produced in ${Math.round((tProduced - t0) / 1000)} s; engine acknowledged ${done}/${inputs.length} outcomes ${Math.round((Date.now() - tProduced) / 1000)} s later`);
    const letters = await readDecoded<DeadLetter>(f.dlq, { expected: bad.length, timeoutMs: 30_000, idleMs: 3_000 });
    const enriched = await readDecoded<Enriched>(f.enriched, { expected: valid.length, timeoutMs: 30_000, idleMs: 2_000 });
    rss.stop();
    clearInterval(progress);
    const infraRetries = await metricSum(port, 'tracklane_infrastructure_retries_total').catch(() => NaN);

    const byKind = new Map<string, number>();
    for (const x of bad) byKind.set(x.kind, (byKind.get(x.kind) ?? 0) + 1);
    console.log(
      `fuzz-input: seed ${SEED}; inputs tried ${inputs.length} (${bad.length} malformed, ${valid.length} valid); ` +
        `dead letters ${letters.length}; enriched ${enriched.length}; engine restarts ${child.exits.length}; ` +
        `peak RSS ${rss.peakMb} MB over ${rss.samples} samples; infrastructure retries ${infraRetries}; ${Math.round((Date.now() - t0) / 1000)} s\n` +
        `  kinds: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')}`,
    );

    // The engine is the same process the whole time.
    expect(child.exits).toEqual([]);
    expect(child.pid).toBe(pid);
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(rss.peakMb).toBeLessThan(PEAK_RSS_LIMIT_MB);

    // Each malformed input: exactly one dead letter, at its offset, with its reason and bytes.
    const at = (p: number, o: string | number) => `${p}:${o}`;
    const inputAt = new Map(inputs.map((x) => [at(x.partition, x.offset!), x]));
    const seen = new Map<string, number>();
    const wrong: string[] = [];
    let bytesLeftOut = 0;
    for (const { value: l } of letters) {
      const where = at(l.source_partition, l.source_offset);
      seen.set(where, (seen.get(where) ?? 0) + 1);
      const input = inputAt.get(where);
      if (!input) { wrong.push(`${where}: dead letter for no input`); continue; }
      if (l.source_topic !== f.raw) wrong.push(`${where}: source_topic ${l.source_topic}`);
      if (l.reason !== input.expect) wrong.push(`${where} ${input.kind}: reason ${l.reason} (${l.message.slice(0, 120)}), expected ${input.expect}`);
      const sameValue = input.value === null ? l.value === null : l.value !== null && Buffer.compare(l.value, input.value) === 0;
      // Only a record near the size limit may leave its bytes out of the dead letter, and says so.
      const leftOut = l.value === null && recordSize(input) > MAX_DEAD_LETTER_BYTES - 50_000 && l.message.includes('not kept');
      if (leftOut) bytesLeftOut++;
      if (!sameValue && !leftOut) wrong.push(`${where} ${input.kind}: value bytes differ from the input`);
    }
    for (const x of bad) {
      const n = seen.get(at(x.partition, x.offset!)) ?? 0;
      if (n !== 1) wrong.push(`${at(x.partition, x.offset!)} ${x.kind}: ${n} dead letters`);
    }
    console.log(`fuzz-input: ${bytesLeftOut} dead letters left the original bytes out (records near the size limit)`);
    expect(wrong.slice(0, 20)).toEqual([]);
    expect(letters).toHaveLength(bad.length);

    // The valid ones, garbage keys and headers or not, come through enriched and pseudonymized.
    expect(enriched).toHaveLength(valid.length);
    const validById = new Map(valid.map((x) => [x.eventId!, x]));
    const hmac = (v: string) => 'k1:' + crypto.createHmac('sha256', KEYS.TRACKLANE_PSEUDONYM_KEYS.slice(3)).update(v).digest('hex');
    for (const { value: e } of enriched) {
      const input = validById.get(e.event_id);
      expect(input).toBeDefined();
      expect(at(e.tracklane.source.partition, e.tracklane.source.offset)).toBe(at(input!.partition, input!.offset!));
      expect(e.email).toBe(hmac(input!.email!));
      expect(e.tracklane.steps).toEqual(['correlation', 'pseudonymize', 'lineage']);
    }
  }, 4 * MIN);
});

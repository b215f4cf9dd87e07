// Dedupe stage throughput against the real Redis, next to a baseline measured in the same run:
// a pipelined `SET key value PX window NX` per event (the least a Redis dedupe can do).
//
//   npx tsc -p . && node dist/bench/dedupe.js [events=200000] [batch=500] [duplicates=0.1]
//
// REDIS_URL as for the engine. Prints the figures and writes them to bench/results/.
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDedupeStage, fingerprint } from '../src/dedupe/stage';
import type { PipelineEvent, StageContext } from '../src/pipeline/event';
import { keys as makeKeys, type Keys } from '../src/state/keys';
import { createRedis, waitUntilReady, type RedisClient } from '../src/state/redis';
import { packageRoot } from '../src/package-root';
import type { Topology } from '../src/topology/types';
import { logger } from '../src/observability/logger';
import { deletePrefix, usedMemory } from './redis-calls';

const N = Number(process.argv[2] ?? 200_000);
const BATCH = Number(process.argv[3] ?? 500);
const DUP = Number(process.argv[4] ?? 0.1);
const WINDOW_MS = 86_400_000;

function events(n: number, dupFraction: number, seed: string): PipelineEvent[] {
  const unique = Math.round(n * (1 - dupFraction));
  const ids = Array.from({ length: unique }, () => randomUUID());
  let x = Number.parseInt(createHash('sha256').update(seed).digest('hex').slice(0, 8), 16);
  const rand = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const out: PipelineEvent[] = [];
  for (let i = 0; i < n; i++) {
    const key = i < unique ? ids[i] : ids[Math.floor(rand() * unique)];
    const partition = i % 2;
    out.push({
      source: {} as PipelineEvent['source'],
      topic: 'raw.bench',
      partition,
      offset: String(i >> 1),
      timestamp: 1_700_000_000_000 + i,
      key: Buffer.from(key),
      // A duplicate re-sends the same bytes (a producer retry), so it is dropped, not a conflict.
      value: Buffer.from(`{"event_id":"${key}","type":"checkout","status":"ok","duration_ms":${key.charCodeAt(0) * 7}}`),
      headers: {},
      record: {},
      idempotencyKey: key,
      meta: { steps: [], pseudonymized: [] },
    });
  }
  // Duplicates spread through the stream rather than all at the end.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function countRoundTrips(redis: RedisClient): () => number {
  // Every command ioredis sends; a pipeline's commands leave in one write, counted once via exec.
  let n = 0;
  const target = redis as unknown as { sendCommand: (...a: unknown[]) => unknown };
  const original = target.sendCommand.bind(redis);
  target.sendCommand = (...a: unknown[]) => { n++; return original(...a); };
  return () => n;
}

async function runEngine(redis: RedisClient, evs: PipelineEvent[], k: Keys, name: string) {
  const stage = createDedupeStage(redis, k, { key: 'event_id', windowMs: WINDOW_MS, onConflict: 'deadletter' });
  const ctx = { topology: { name } as Topology, instanceId: 'bench', log: logger } as StageContext;
  const rt = countRoundTrips(redis);
  const lat: number[] = [];
  const bs = batches(evs, BATCH);
  const t0 = process.hrtime.bigint();
  for (const b of bs) {
    const s = process.hrtime.bigint();
    await stage.process(b, ctx);
    lat.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const dropped = evs.filter((e) => e.dropped || e.failure).length;
  return { seconds, batches: bs.length, roundTrips: rt(), lat: lat.sort((a, b) => a - b), dropped };
}

async function runBaseline(redis: RedisClient, evs: PipelineEvent[], k: Keys) {
  const lat: number[] = [];
  const bs = batches(evs, BATCH);
  let dropped = 0;
  const t0 = process.hrtime.bigint();
  for (const b of bs) {
    const s = process.hrtime.bigint();
    const p = redis.pipeline();
    for (const ev of b) {
      p.set(k.dedupe(ev.idempotencyKey as string), `${ev.topic}|${ev.partition}|${ev.offset}|${fingerprint(ev.value)}`, 'PX', WINDOW_MS, 'NX');
    }
    const res = await p.exec();
    for (const [err, r] of res ?? []) {
      if (err) throw err;
      if (r === null) dropped++;
    }
    lat.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, batches: bs.length, lat: lat.sort((a, b) => a - b), dropped };
}

async function main(): Promise<void> {
  const redis = createRedis({ connectionName: 'tracklane-bench' });
  await waitUntilReady(redis);
  const run = randomUUID().slice(0, 8);
  const engineKeys = makeKeys(`bench-${run}`, 'tlbench');
  const baseKeys = makeKeys(`bench-${run}-base`, 'tlbench');
  const warmKeys = makeKeys(`bench-${run}-warm`, 'tlbench');
  try {
    // Warm-up: JIT, script load, connection.
    await runEngine(redis, events(5000, DUP, 'warm'), warmKeys, 'warm');
    await runBaseline(redis, events(5000, DUP, 'warm2'), warmKeys);
    await deletePrefix(redis, warmKeys);

    const unique = Math.round(N * (1 - DUP));
    // Two rounds in opposite order (engine first, then baseline first) on fresh keys, so
    // neither side profits from running second; memory per key comes from the first round.
    const mem0 = await usedMemory(redis);
    const engine1 = await runEngine(redis, events(N, DUP, 'engine'), engineKeys, `bench-${run}`);
    const mem1 = await usedMemory(redis);
    const baseline1 = await runBaseline(redis, events(N, DUP, 'baseline'), baseKeys);
    const mem2 = await usedMemory(redis);
    await deletePrefix(redis, engineKeys);
    await deletePrefix(redis, baseKeys);
    const baseline2 = await runBaseline(redis, events(N, DUP, 'baseline2'), baseKeys);
    const engine2 = await runEngine(redis, events(N, DUP, 'engine2'), engineKeys, `bench-${run}`);
    const merge = <T extends { seconds: number; batches: number; lat: number[]; dropped: number }>(a: T, b: T) => ({
      ...a,
      seconds: a.seconds + b.seconds,
      batches: a.batches + b.batches,
      lat: [...a.lat, ...b.lat].sort((x, y) => x - y),
      dropped: a.dropped,
    });
    const engine = { ...merge(engine1, engine2), roundTrips: engine1.roundTrips + engine2.roundTrips };
    const baseline = merge(baseline1, baseline2);
    const totalEvents = 2 * N;
    const engineRate = totalEvents / engine.seconds;
    const baseRate = totalEvents / baseline.seconds;
    const result = {
      at: new Date().toISOString(),
      events: N,
      batch: BATCH,
      duplicateFraction: DUP,
      uniqueKeys: unique,
      engine: {
        eventsPerSecond: Math.round(engineRate),
        roundTripsPerBatch: engine.roundTrips / engine.batches,
        batchMs: { p50: +percentile(engine.lat, 0.5).toFixed(2), p99: +percentile(engine.lat, 0.99).toFixed(2) },
        dropped: engine.dropped,
        bytesPerKey: Math.round((mem1 - mem0) / unique),
      },
      baseline: {
        what: 'pipelined SET key value PX window NX per event, same batches and values',
        eventsPerSecond: Math.round(baseRate),
        roundTripsPerBatch: 1,
        batchMs: { p50: +percentile(baseline.lat, 0.5).toFixed(2), p99: +percentile(baseline.lat, 0.99).toFixed(2) },
        dropped: baseline.dropped,
        bytesPerKey: Math.round((mem2 - mem1) / unique),
      },
      ratioEngineToBaseline: +(engineRate / baseRate).toFixed(3),
    };
    const lines = [
      `dedupe bench: ${N} events, batch ${BATCH}, ${DUP * 100}% duplicates (${unique} unique keys)`,
      `  engine   ${result.engine.eventsPerSecond} events/s, ${result.engine.roundTripsPerBatch} round trip(s)/batch, batch p50 ${result.engine.batchMs.p50} ms p99 ${result.engine.batchMs.p99} ms, ${result.engine.bytesPerKey} B/key, duplicates dropped ${engine.dropped}`,
      `  baseline ${result.baseline.eventsPerSecond} events/s, 1 round trip/batch (pipeline), batch p50 ${result.baseline.batchMs.p50} ms p99 ${result.baseline.batchMs.p99} ms, ${result.baseline.bytesPerKey} B/key, SET NX refused ${baseline.dropped}`,
      `  (events/s and batch times over two rounds of ${N} each, run in opposite order)`,
      `  engine / baseline = ${result.ratioEngineToBaseline}`,
    ];
    console.log(lines.join('\n'));
    const dir = join(packageRoot(), 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `dedupe-${result.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.log(`  written to bench/results/${file.split(/[\\/]/).pop()}`);
  } finally {
    await deletePrefix(redis, engineKeys);
    await deletePrefix(redis, baseKeys);
    await deletePrefix(redis, warmKeys);
    redis.disconnect();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});

// Issue 7 part 5: N distinct idempotency keys (default 10,000,000) through the real dedupe
// stage against the real Redis, in batches of 500 built on the fly, as the engine would see
// them. Dedupe state lives in Redis, so the process's RSS must stay flat while the key count
// grows; the figures are RSS and heap every `--every` keys (the baseline is the first
// sample, taken after warm-up) and Redis memory per key (used_memory growth / keys).
//
//   npx tsc -p . && node dist/bench/dedupe-memory.js [--keys 10000000] [--batch 500] [--every 1000000]
//
// REDIS_URL as for the engine. Every key is deleted at the end (also on Ctrl-C); the
// window is a day, so nothing expires while the run measures.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDedupeStage } from '../src/dedupe/stage';
import { logger } from '../src/observability/logger';
import { packageRoot } from '../src/package-root';
import type { PipelineEvent, StageContext } from '../src/pipeline/event';
import { keys as makeKeys } from '../src/state/keys';
import { createRedis, waitUntilReady } from '../src/state/redis';
import type { Topology } from '../src/topology/types';
import { deletePrefix, usedMemory } from './redis-calls';

const { values: args } = parseArgs({
  options: { keys: { type: 'string', default: '10000000' }, batch: { type: 'string', default: '500' }, every: { type: 'string', default: '1000000' } },
});
const N = Number(args.keys);
const BATCH = Number(args.batch);
const EVERY = Number(args.every);
const MB = 1024 * 1024;

/** One batch of fresh keys: every event is new, so each adds one key to Redis. */
function batch(from: number, size: number): PipelineEvent[] {
  return Array.from({ length: size }, (_, i) => {
    const key = randomUUID();
    return {
      source: {} as PipelineEvent['source'],
      topic: 'raw.bench',
      partition: 0,
      offset: String(from + i),
      timestamp: Date.now(),
      key: Buffer.from(key),
      value: Buffer.from(`{"event_id":"${key}","type":"checkout","status":"ok"}`),
      headers: {},
      record: {},
      idempotencyKey: key,
      meta: { steps: [], pseudonymized: [] },
    };
  });
}

interface Row { keys: number; seconds: number; rssMb: number; heapMb: number; redisMb: number }

async function main(): Promise<void> {
  const redis = createRedis({ connectionName: 'tracklane-bench-dedupe-memory' });
  await waitUntilReady(redis);
  const name = `bench-mem-${randomUUID().slice(0, 8)}`;
  const k = makeKeys(name, 'tlbench');
  const stage = createDedupeStage(redis, k, { key: 'event_id', windowMs: 86_400_000, onConflict: 'deadletter' });
  const ctx = { topology: { name } as Topology, instanceId: 'bench', log: logger } as StageContext;
  let stop = false;
  process.once('SIGINT', () => (stop = true));
  const rows: Row[] = [];
  try {
    for (let i = 0; i < 20; i++) await stage.process(batch(-1e9 + i * BATCH, BATCH), ctx); // warm-up: JIT, script load
    await deletePrefix(redis, k);
    const mem0 = await usedMemory(redis);
    const t0 = performance.now();
    const sample = async (n: number) => {
      const m = process.memoryUsage();
      rows.push({ keys: n, seconds: +((performance.now() - t0) / 1000).toFixed(1), rssMb: +(m.rss / MB).toFixed(1), heapMb: +(m.heapUsed / MB).toFixed(1), redisMb: +((await usedMemory(redis)) - mem0) / MB });
      const r = rows[rows.length - 1];
      process.stderr.write(`  ${r.keys.toLocaleString('en')} keys, ${r.seconds}s: rss ${r.rssMb} MB, heap ${r.heapMb} MB, redis +${r.redisMb.toFixed(1)} MB\n`);
    };
    await sample(0);
    let dropped = 0;
    for (let n = 0; n < N && !stop; ) {
      const evs = batch(n, Math.min(BATCH, N - n));
      await stage.process(evs, ctx);
      for (const e of evs) if (e.dropped || e.failure) dropped++;
      n += evs.length;
      if (n % EVERY === 0 || n === N) await sample(n);
    }
    const last = rows[rows.length - 1];
    const first = rows[1] ?? rows[0]; // the first sample with keys in Redis: the engine's working size
    const result = {
      at: new Date().toISOString(),
      keys: last.keys,
      batch: BATCH,
      eventsPerSecond: Math.round(last.keys / last.seconds),
      dropped,
      redisBytesPerKey: Math.round((last.redisMb * MB) / Math.max(1, last.keys)),
      rss: { atFirstSampleMb: first.rssMb, atEndMb: last.rssMb, peakMb: Math.max(...rows.map((r) => r.rssMb)), endVsFirst: +(last.rssMb / first.rssMb).toFixed(3) },
      rows,
    };
    console.log(
      [
        `dedupe memory: ${result.keys.toLocaleString('en')} distinct keys, batch ${BATCH}, ${result.eventsPerSecond} keys/s, dropped ${dropped} (expected 0)`,
        `  engine RSS: ${first.rssMb} MB at ${first.keys.toLocaleString('en')} keys, ${last.rssMb} MB at ${last.keys.toLocaleString('en')} keys (x${result.rss.endVsFirst}), peak ${result.rss.peakMb} MB`,
        `  Redis: +${last.redisMb.toFixed(0)} MB, ${result.redisBytesPerKey} bytes per key`,
      ].join('\n'),
    );
    const dir = join(packageRoot(), 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `dedupe-memory-${result.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.log(`  written to bench/results/${file.split(/[\\/]/).pop()}`);
  } finally {
    process.stderr.write('  deleting the run\'s keys...\n');
    await deletePrefix(redis, k);
    redis.disconnect();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});

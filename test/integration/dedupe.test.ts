import { Redis } from 'ioredis';
import { createDedupeStage, fingerprint } from '../../src/dedupe/stage';
import { InfrastructureError } from '../../src/errors';
import { keys as makeKeys } from '../../src/state/keys';
import { createRedis, waitUntilReady, loadScripts, type RedisClient } from '../../src/state/redis';
import { withRetry } from '../../src/errors/retry';
import type { DedupeSpec } from '../../src/topology/types';
import type { PipelineEvent } from '../../src/pipeline/event';
import { REDIS_URL, countCommands, deleteKeys, makeContext, makeEvent, randomName } from '../helpers/events';

const topology = randomName('dd');
const ks = makeKeys(topology, 'tltest');
const ctx = makeContext(topology);
const spec = (onConflict: DedupeSpec['onConflict'] = 'deadletter'): DedupeSpec => ({ key: 'event_id', windowMs: 3_600_000, onConflict });
let redis: RedisClient;
let seq = 0;
const uniq = (label: string) => `${label}-${++seq}`;

beforeAll(async () => {
  redis = createRedis({ url: REDIS_URL });
  await waitUntilReady(redis);
});
afterAll(async () => {
  await deleteKeys(redis, ks.prefix);
  redis.disconnect();
});

function counters() {
  const c = { duplicates: 0, conflicts: 0, firstSightings: [] as string[] };
  return {
    c,
    hooks: {
      onDuplicate: () => { c.duplicates++; },
      onConflict: (_ev: PipelineEvent, first: { topic: string; partition: number; offset: string }) => {
        c.conflicts++;
        c.firstSightings.push(`${first.topic}/${first.partition}/${first.offset}`);
      },
    },
  };
}

describe('dedupe stage', () => {
  test('new, replay of the same offset, duplicate from another offset', async () => {
    const { c, hooks } = counters();
    const stage = createDedupeStage(redis, ks, spec(), hooks);
    const key = uniq('k');
    const first = makeEvent({ idempotencyKey: key, partition: 0, offset: 10, value: 'same' });
    await stage.process([first], ctx);
    expect(first.dropped).toBeUndefined();
    expect(first.failure).toBeUndefined();
    expect(await redis.get(ks.dedupe(key))).toBe(`raw.test|0|10|${fingerprint(Buffer.from('same'))}`);
    expect(await redis.pttl(ks.dedupe(key))).toBeGreaterThan(3_500_000);

    const replay = makeEvent({ idempotencyKey: key, partition: 0, offset: 10, value: 'same' });
    await stage.process([replay], ctx);
    expect(replay.dropped).toBeUndefined();
    expect(replay.failure).toBeUndefined();

    const dup = makeEvent({ idempotencyKey: key, partition: 1, offset: 3, value: 'same' });
    await stage.process([dup], ctx);
    expect(dup.dropped).toBe('duplicate');
    expect(dup.failure).toBeUndefined();
    expect(c).toEqual({ duplicates: 1, conflicts: 0, firstSightings: [] });
  });

  test('a replay with other content is still a replay (same coordinates = same record)', async () => {
    const stage = createDedupeStage(redis, ks, spec());
    const key = uniq('k');
    await stage.process([makeEvent({ idempotencyKey: key, offset: 1, value: 'a' })], ctx);
    const again = makeEvent({ idempotencyKey: key, offset: 1, value: 'b' });
    await stage.process([again], ctx);
    expect(again.dropped ?? again.failure).toBeUndefined();
  });

  test('same offset on another topic is not a replay', async () => {
    const stage = createDedupeStage(redis, ks, spec());
    const key = uniq('k');
    await stage.process([makeEvent({ idempotencyKey: key, topic: 'raw.a', offset: 5, value: 'x' })], ctx);
    const other = makeEvent({ idempotencyKey: key, topic: 'raw.b', offset: 5, value: 'x' });
    await stage.process([other], ctx);
    expect(other.dropped).toBe('duplicate');
  });

  test('conflict, onConflict deadletter: DUPLICATE_CONFLICT naming the first sighting', async () => {
    const { c, hooks } = counters();
    const stage = createDedupeStage(redis, ks, spec('deadletter'), hooks);
    const key = uniq('k');
    await stage.process([makeEvent({ idempotencyKey: key, partition: 1, offset: 41, value: 'v1' })], ctx);
    const ev = makeEvent({ idempotencyKey: key, partition: 0, offset: 7, value: 'v2' });
    await stage.process([ev], ctx);
    expect(ev.dropped).toBeUndefined();
    expect(ev.failure).toMatchObject({ reason: 'DUPLICATE_CONFLICT', stage: 'dedupe' });
    expect(ev.failure?.message).toContain('raw.test partition 1 offset 41');
    expect(c).toEqual({ duplicates: 0, conflicts: 1, firstSightings: ['raw.test/1/41'] });
  });

  test('conflict, onConflict keep: passes through, first sighting kept', async () => {
    const { c, hooks } = counters();
    const stage = createDedupeStage(redis, ks, spec('keep'), hooks);
    const key = uniq('k');
    await stage.process([makeEvent({ idempotencyKey: key, offset: 1, value: 'v1' })], ctx);
    const ev = makeEvent({ idempotencyKey: key, offset: 2, value: 'v2' });
    await stage.process([ev], ctx);
    expect(ev.dropped ?? ev.failure).toBeUndefined();
    expect(await redis.get(ks.dedupe(key))).toMatch(/^raw\.test\|0\|1\|/);
    expect(c.conflicts).toBe(1);
    expect(c.duplicates).toBe(0);
  });

  test('conflict, onConflict drop: dropped as duplicate', async () => {
    const { c, hooks } = counters();
    const stage = createDedupeStage(redis, ks, spec('drop'), hooks);
    const key = uniq('k');
    await stage.process([makeEvent({ idempotencyKey: key, offset: 1, value: 'v1' })], ctx);
    const ev = makeEvent({ idempotencyKey: key, offset: 2, value: 'v2' });
    await stage.process([ev], ctx);
    expect(ev.dropped).toBe('duplicate');
    expect(ev.failure).toBeUndefined();
    expect(c).toMatchObject({ conflicts: 1, duplicates: 1 });
  });

  test('within one batch the second sighting is the duplicate or conflict; replaying the batch answers the same', async () => {
    const stage = createDedupeStage(redis, ks, spec('deadletter'));
    const a = uniq('a');
    const b = uniq('b');
    const batch = () => [
      makeEvent({ idempotencyKey: a, offset: 1, value: 'x' }),
      makeEvent({ idempotencyKey: b, offset: 2, value: 'y' }),
      makeEvent({ idempotencyKey: a, offset: 3, value: 'x' }),
      makeEvent({ idempotencyKey: b, offset: 4, value: 'other' }),
      makeEvent({ idempotencyKey: a, offset: 5, value: 'x' }),
    ];
    const outcome = (evs: PipelineEvent[]) => evs.map((e) => e.dropped ?? e.failure?.reason ?? 'pass');
    const first = batch();
    await stage.process(first, ctx);
    expect(outcome(first)).toEqual(['pass', 'pass', 'duplicate', 'DUPLICATE_CONFLICT', 'duplicate']);
    const again = batch();
    await stage.process(again, ctx);
    expect(outcome(again)).toEqual(outcome(first));
  });

  test('failed, dropped and key-less events are left alone and not sent to Redis', async () => {
    const stage = createDedupeStage(redis, ks, spec());
    const calls = countCommands(redis);
    const failed = makeEvent({ idempotencyKey: uniq('f'), offset: 1 });
    failed.failure = { reason: 'VALIDATION_FAILED', message: 'x', stage: 'validate' };
    const dropped = makeEvent({ idempotencyKey: uniq('d'), offset: 2 });
    dropped.dropped = 'consent';
    const noKey = makeEvent({ offset: 3 });
    await stage.process([failed, dropped, noKey], ctx);
    expect(calls.count).toBe(0);
    expect(await redis.exists(ks.dedupe(failed.idempotencyKey!), ks.dedupe(dropped.idempotencyKey!))).toBe(0);
  });

  test('50,000 events, 10% duplicates across 2 partitions: exactly the unique set, one script call per batch, stable on replay', async () => {
    const total = 50_000;
    const dupCount = total / 10;
    const uniqueCount = total - dupCount;
    const run = uniq('bulk');
    // Partition 0 and 1 each carry half of the unique keys; every duplicate re-sends (same
    // bytes) a key first sent earlier, from the other partition.
    const parts: PipelineEvent[][] = [[], []];
    for (let i = 0; i < uniqueCount; i++) {
      const p = i % 2;
      parts[p].push(makeEvent({ idempotencyKey: `${run}-${i}`, partition: p, offset: parts[p].length, value: `payload-${i}` }));
    }
    let rnd = 12345;
    const next = () => (rnd = (rnd * 1103515245 + 12345) % 2 ** 31);
    for (let d = 0; d < dupCount; d++) {
      const i = next() % uniqueCount;
      const p = 1 - (i % 2);
      // Usually behind the original; whichever sighting comes first passes, the other drops.
      const pos = Math.min(parts[p].length, Math.floor(i / 2) + 1 + (next() % 200));
      parts[p].splice(pos, 0, makeEvent({ idempotencyKey: `${run}-${i}`, partition: p, value: `payload-${i}` }));
    }
    parts.forEach((evs, p) => evs.forEach((ev, o) => { ev.offset = String(o); ev.partition = p; }));
    const stream = () => {
      // Alternate batches of 500 from each partition, as a consumer of 2 partitions would.
      const batches: PipelineEvent[][] = [];
      const cursors = [0, 0];
      while (cursors[0] < parts[0].length || cursors[1] < parts[1].length) {
        for (const p of [0, 1]) {
          const slice = parts[p].slice(cursors[p], cursors[p] + 500).map((e) => ({ ...e, meta: { steps: [], pseudonymized: [] } }));
          cursors[p] += slice.length;
          if (slice.length) batches.push(slice);
        }
      }
      return batches;
    };

    const monitorParent = new Redis(REDIS_URL);
    const monitor = await monitorParent.monitor();
    const scriptCalls: string[] = [];
    const command = loadScripts(redis).commands.get('dedupe')!;
    expect(command).toMatch(/^tl_[0-9A-Za-z_]+_dedupe$/);
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const name = String(args[0]).toLowerCase();
      if (source !== 'lua' && (name === 'evalsha' || name === 'eval') && args.some((a) => String(a).startsWith(ks.prefix))) {
        scriptCalls.push(name);
      }
    });
    await new Promise((r) => setTimeout(r, 100));

    const stage = createDedupeStage(redis, ks, spec('deadletter'));
    const batches = stream();
    const passed = new Set<string>();
    let passedCount = 0;
    let dropped = 0;
    for (const batch of batches) {
      await stage.process(batch, ctx);
      for (const ev of batch) {
        expect(ev.failure).toBeUndefined();
        if (ev.dropped) dropped++;
        else { passedCount++; passed.add(ev.idempotencyKey!); }
      }
    }
    await new Promise((r) => setTimeout(r, 300));
    monitor.disconnect();
    monitorParent.disconnect();
    expect(passedCount).toBe(uniqueCount);
    expect(passed.size).toBe(uniqueCount);
    expect(dropped).toBe(dupCount);
    expect(scriptCalls.length).toBe(batches.length);

    // A crash before any commit: the same offsets come again, every original is a REPLAY.
    const replayed = stream();
    let replayPassed = 0;
    for (const batch of replayed) {
      await stage.process(batch, ctx);
      replayPassed += batch.filter((e) => !e.dropped && !e.failure).length;
    }
    expect(replayPassed).toBe(uniqueCount);
  });

  test('Redis unreachable: process() rejects quickly with a retriable InfrastructureError', async () => {
    const down = createRedis({ url: 'redis://127.0.0.1:1' });
    try {
      const stage = createDedupeStage(down, ks, spec());
      const started = Date.now();
      const err = await stage.process([makeEvent({ idempotencyKey: uniq('u'), offset: 1 })], ctx).then(() => null, (e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(err).toBeInstanceOf(InfrastructureError);
      expect(err).toMatchObject({ code: 'REDIS_UNAVAILABLE', retriable: true, dependency: 'redis' });

      // withRetry keeps trying until the signal aborts, then surfaces the last error.
      const warnings: unknown[] = [];
      const log = { warn: (o: unknown) => { warnings.push(o); }, info: () => undefined };
      const t0 = Date.now();
      const retried = await withRetry(
        () => stage.process([makeEvent({ idempotencyKey: uniq('u'), offset: 2 })], ctx),
        { log, what: 'dedupe', signal: AbortSignal.timeout(700) },
      ).then(() => null, (e: unknown) => e);
      expect(retried).toBeInstanceOf(InfrastructureError);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(warnings.length).toBeGreaterThanOrEqual(2);
    } finally {
      down.disconnect();
      // ioredis waits disconnectTimeout (2 s) on a socket that never opened; let it finish here.
      await new Promise((r) => setTimeout(r, 2100));
    }
  });
});

describe('withRetry', () => {
  const log = { warn: () => undefined, info: () => undefined };
  test('retries retriable errors until success', async () => {
    let n = 0;
    const result = await withRetry(async () => {
      if (++n < 3) throw new InfrastructureError('kafka', 'broker down');
      return 'ok';
    }, { log, what: 'x', baseMs: 1 });
    expect(result).toBe('ok');
    expect(n).toBe(3);
  });
  test('rethrows other errors at once', async () => {
    let n = 0;
    await expect(withRetry(async () => { n++; throw new TypeError('bug'); }, { log, what: 'x', baseMs: 1 })).rejects.toThrow(TypeError);
    expect(n).toBe(1);
  });
  test('uses the caller predicate', async () => {
    let n = 0;
    const r = await withRetry(async () => { if (++n < 2) throw new Error('flaky'); return n; }, { log, what: 'x', baseMs: 1, isRetriable: () => true });
    expect(r).toBe(2);
  });
});

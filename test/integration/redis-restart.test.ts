import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { ChildEngine } from '../helpers/child-engine';
import { CommittedWatch, waitForInputCommitted } from '../helpers/committed-watch';
import { buildDuplicateStream, initTopologyRetrying, produceStream, type DuplicateStream } from '../helpers/duplicate-stream';
import { registerVersions, writeFixture, type Fixture } from '../helpers/engine-fixture';
import { readDecoded, type Enriched } from '../helpers/outputs';
import { RedisServer } from '../helpers/redis-server';
import { deleteTopics } from '../helpers/stack-env';

// Redis restarted twice while the engine runs (exactly-once, dedupe + identity + session):
// nothing is lost (the engine pauses and retries, nothing is dead-lettered) and no duplicate
// gets through, because the dedupe keys written before the restart are still there after it.
// That needs a Redis that persists its writes (docs/state.md, "Redis restarts"), so the test
// runs its own redis-server with an fsync-always AOF instead of the shared one on :6379.
// The engine runs as a child process (`npm run build` first).

// Our read_committed readers (CommittedWatch, readDecoded) are kafkajs consumers; kafkajs
// 2.2.4 lets records of aborted transactions through when a fetch overlaps several of them
// listed out of order (test/helpers/read-committed.ts). Judge the engine with a reader that
// filters like the Java client does.
jest.mock('kafkajs/src/consumer/filterAbortedMessages', () => jest.requireActual('../helpers/read-committed').filterAbortedMessages);

const TOTAL = 50_000;
const PARTITIONS = 4;
const MIN = 60_000;
const RESTART_POINTS = [0.25, 0.6];

describe('Redis restarted mid-stream (exactly-once)', () => {
  const redis = new RedisServer();
  let f: Fixture | undefined;
  let stream: DuplicateStream;
  let watch: CommittedWatch | undefined;
  let engine: ChildEngine | undefined;

  afterAll(async () => {
    await engine?.stop().catch(() => undefined);
    await watch?.stop().catch(() => undefined);
    await redis.remove();
    if (f) {
      await deleteTopics(f.topics);
      fs.rmSync(f.dir, { recursive: true, force: true });
    }
  }, 2 * MIN);

  it('loses nothing and lets no duplicate through when Redis restarts twice', async () => {
    await redis.start();
    f = writeFixture({
      delivery: 'exactly-once',
      partitions: PARTITIONS,
      dedupe: '{ key: event_id, window: 24h }',
      enrich: ['- identity: { anonymousId: anonymous_id, userId: user_id }', '- session: { by: [user_id, anonymous_id], gap: 30m }'],
    });
    const { v2 } = await registerVersions(f.subject);
    await initTopologyRetrying(f.file);
    stream = buildDuplicateStream({ total: TOTAL, duplicateRatio: 0.1, partitions: PARTITIONS, schemaId: v2 });
    await produceStream(f.raw, stream.records);
    watch = await CommittedWatch.start(f.enriched);
    engine = new ChildEngine(f.file, { REDIS_URL: redis.url }, 'redis-restart');
    const started = Date.now();
    engine.start();

    const unique = stream.unique.length;
    const redisFailures = () => engine!.output.split('"dependency":"redis"').length - 1;
    const exited = () => {
      const proc = (engine as unknown as { child: ChildProcess }).child;
      return proc.exitCode !== null || proc.signalCode !== null ? `engine exited (code ${proc.exitCode})` : undefined;
    };
    try {
      for (const point of RESTART_POINTS) {
        await watch.waitFor(Math.round(point * unique), 5 * MIN, exited);
        const keysBefore = await redis.dbsize();
        const failuresBefore = redisFailures();
        await redis.stop();
        // Keep Redis away until the engine has run into it (a batch failed and is retried).
        const deadline = Date.now() + MIN;
        while (redisFailures() === failuresBefore) {
          if (Date.now() > deadline) throw new Error('the engine never noticed that Redis was down');
          await new Promise((r) => setTimeout(r, 100));
        }
        const downAt = watch.count;
        await redis.start();
        // Everything written before the shutdown came back from the AOF.
        expect(await redis.dbsize()).toBeGreaterThanOrEqual(keysBefore);
        process.stdout.write(`Redis restarted with ${downAt} of ${unique} enriched records committed (${keysBefore} keys kept)\n`);
      }

      await waitForInputCommitted(f.name, f.raw, 5 * MIN);
      const enriched = await readDecoded<Enriched>(f.enriched, { expected: unique, readCommitted: true, timeoutMs: 3 * MIN, idleMs: 3_000 });
      process.stdout.write(`Redis restart run: ${Date.now() - started} ms, ${redisFailures()} batch retries on Redis\n`);
      const ids = enriched.map((e) => e.value.event_id);
      expect(ids.length - new Set(ids).size).toBe(0);
      expect(enriched).toHaveLength(unique);
      expect(new Set(ids)).toEqual(new Set(stream.unique));
      expect(watch.extraCopies).toBe(0);
      // An outage is not bad data: no dead letters (in particular no DUPLICATE_CONFLICT).
      expect(await readDecoded(f.dlq, { idleMs: 1_000, timeoutMs: 30_000 })).toHaveLength(0);
    } catch (err) {
      process.stderr.write(`engine logs (tail):\n${engine.output.slice(-6_000)}\nredis log (tail):\n${redis.log.slice(-2_000)}\n`);
      throw err;
    }
  }, 10 * MIN);
});

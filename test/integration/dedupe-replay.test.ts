import { createDedupeStage, fingerprint } from '../../src/dedupe/stage';
import { REPLAY_ORIGIN_HEADER, REPLAYED_FROM_HEADER } from '../../src/dedupe/replay-header';
import { keys as makeKeys } from '../../src/state/keys';
import { createRedis, waitUntilReady, type RedisClient } from '../../src/state/redis';
import type { PipelineEvent } from '../../src/pipeline/event';
import { REDIS_URL, deleteKeys, makeContext, makeEvent, randomName } from '../helpers/events';

// The dedupe stage and a replayed dead letter (docs/state.md, "Dead-letter replay"): a
// replay whose original holds the key takes it over once; every other copy is a duplicate.

const topology = randomName('ddr');
const ks = makeKeys(topology, 'tltest');
const ctx = makeContext(topology);
let redis: RedisClient;
let seq = 0;

beforeAll(async () => {
  redis = createRedis({ url: REDIS_URL });
  await waitUntilReady(redis);
});
afterAll(async () => {
  await deleteKeys(redis, ks.prefix);
  redis.disconnect();
});

/** An event read from raw.test at partition/offset; `replayOf` adds the headers `tracklane replay` sets. */
function event(key: string, partition: number, offset: number, replayOf?: { partition: number; offset: number; dlqOffset?: number }, value = 'same'): PipelineEvent {
  const ev = makeEvent({ idempotencyKey: key, partition, offset, value });
  if (replayOf) {
    ev.headers[REPLAY_ORIGIN_HEADER] = Buffer.from(`raw.test:${replayOf.partition}:${replayOf.offset}`);
    ev.headers[REPLAYED_FROM_HEADER] = Buffer.from(`dlq.test:0:${replayOf.dlqOffset ?? 0}`);
  }
  return ev;
}

async function run(...events: PipelineEvent[]): Promise<Array<'passed' | 'duplicate' | 'conflict'>> {
  const stage = createDedupeStage(redis, ks, { key: 'event_id', windowMs: 3_600_000, onConflict: 'deadletter' });
  await stage.process(events, ctx);
  return events.map((ev) => (ev.failure ? 'conflict' : ev.dropped ? 'duplicate' : 'passed'));
}

const stored = (key: string) => redis.get(ks.dedupe(key));
const fp = fingerprint(Buffer.from('same'));

test('a replay of an event dead-lettered after dedupe passes once and takes the key over, keeping its TTL', async () => {
  const key = `k-${++seq}`;
  expect(await run(event(key, 0, 10))).toEqual(['passed']); // then dead-lettered by consent, say
  const ttlBefore = await redis.pttl(ks.dedupe(key));
  expect(await run(event(key, 1, 50, { partition: 0, offset: 10 }))).toEqual(['passed']);
  expect(await stored(key)).toBe(`raw.test|1|50|${fp}`);
  const ttlAfter = await redis.pttl(ks.dedupe(key));
  expect(ttlAfter).toBeLessThanOrEqual(ttlBefore);
  expect(ttlAfter).toBeGreaterThan(ttlBefore - 60_000);

  // the same dead letter re-sent (an interrupted replay run again): a duplicate
  expect(await run(event(key, 1, 51, { partition: 0, offset: 10 }))).toEqual(['duplicate']);
  // the first replay re-processed after an engine crash: same offset, passes again
  expect(await run(event(key, 1, 50, { partition: 0, offset: 10 }))).toEqual(['passed']);
  // the original offset re-processed after the key moved on: a duplicate, not a second dead letter
  expect(await run(event(key, 0, 10))).toEqual(['duplicate']);
  // an ordinary copy of the event from a new offset: still a duplicate
  expect(await run(event(key, 2, 7))).toEqual(['duplicate']);
  expect(await stored(key)).toBe(`raw.test|1|50|${fp}`);
});

test('the replay of a replay that failed again names the first replay as its origin and passes', async () => {
  const key = `k-${++seq}`;
  await run(event(key, 0, 20));
  expect(await run(event(key, 1, 60, { partition: 0, offset: 20 }))).toEqual(['passed']); // dead-lettered again
  expect(await run(event(key, 0, 21, { partition: 0, offset: 20 }))).toEqual(['duplicate']); // the first dead letter once more
  expect(await run(event(key, 2, 90, { partition: 1, offset: 60 }))).toEqual(['passed']); // the second dead letter
  expect(await stored(key)).toBe(`raw.test|2|90|${fp}`);
});

test('two copies of one replay in the same batch: the first passes, the second is a duplicate', async () => {
  const key = `k-${++seq}`;
  await run(event(key, 0, 30));
  expect(await run(event(key, 1, 70, { partition: 0, offset: 30 }), event(key, 1, 71, { partition: 0, offset: 30 }))).toEqual(['passed', 'duplicate']);
});

test('a dead letter from before dedupe (key never stored) is new on its first replay and a duplicate on its second', async () => {
  const key = `k-${++seq}`;
  expect(await run(event(key, 1, 80, { partition: 0, offset: 40 }))).toEqual(['passed']);
  expect(await run(event(key, 1, 81, { partition: 0, offset: 40 }))).toEqual(['duplicate']);
});

test('a replay whose original never held the key is judged like any other event', async () => {
  const key = `k-${++seq}`;
  await run(event(key, 0, 50)); // this one reached the enriched topic
  // a dead letter of another copy of the key (say it failed decoding): a duplicate of the delivered one
  expect(await run(event(key, 1, 90, { partition: 2, offset: 5 }))).toEqual(['duplicate']);
  // different bytes under the key: a conflict
  expect(await run(event(key, 1, 91, { partition: 2, offset: 6 }, 'other'))).toEqual(['conflict']);
  // naming the right origin with other bytes does not take the key over either
  expect(await run(event(key, 1, 92, { partition: 0, offset: 50 }, 'other'))).toEqual(['conflict']);
  expect(await stored(key)).toBe(`raw.test|0|50|${fp}`);
});

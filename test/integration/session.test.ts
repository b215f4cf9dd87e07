import { createSessionStage, sessionId, SESSIONS_KEPT } from '../../src/enrich/session';
import { keys as makeKeys } from '../../src/state/keys';
import { createRedis, waitUntilReady, type RedisClient } from '../../src/state/redis';
import type { IdentityStep, SessionStep } from '../../src/topology/types';
import type { PipelineEvent } from '../../src/pipeline/event';
import { REDIS_URL, countCommands, deleteKeys, makeContext, makeEvent, randomName } from '../helpers/events';

const topology = randomName('ss');
const ks = makeKeys(topology, 'tltest');
const ctx = makeContext(topology);
const MIN = 60_000;
const GAP = 30 * MIN;
const step: SessionStep = { kind: 'session', by: ['user_id', 'anonymous_id'], gapMs: GAP };
const identity: IdentityStep = {
  kind: 'identity', anonymousId: 'anonymous_id', userId: 'user_id',
  ttlMs: 86_400_000, maxUsersPerAnonymousId: 5, blockedValues: ['null'],
};
const T = 1_700_000_000_000;
let redis: RedisClient;
let seq = 0;
const user = () => `user-${++seq}`;
const ev = (record: Record<string, unknown>, eventTime: number) => makeEvent({ record, eventTime, offset: ++seq });
const ids = (b: PipelineEvent[]) => b.map((e) => e.meta.session_id);

beforeAll(async () => {
  redis = createRedis({ url: REDIS_URL });
  await waitUntilReady(redis);
});
afterAll(async () => {
  await deleteKeys(redis, ks.prefix);
  redis.disconnect();
});

describe('session stage', () => {
  test('splits on the gap; ids are derived from the session start', async () => {
    const stage = createSessionStage(redis, ks, step, { identity });
    const u = user();
    const batch = [0, 10, 39, 70, 101, 131].map((m) => ev({ user_id: u }, T + m * MIN));
    const calls = countCommands(redis);
    await stage.process(batch, ctx);
    expect(calls.count).toBe(1);
    const s1 = sessionId(topology, `user_id=${u}`, T);
    const s2 = sessionId(topology, `user_id=${u}`, T + 70 * MIN);
    const s3 = sessionId(topology, `user_id=${u}`, T + 101 * MIN);
    // 39 -> 70 is 31 min (> gap): new session; 70 -> 101 is 31 min: new; 101 -> 131 is 30 min: same.
    expect(ids(batch)).toEqual([s1, s1, s1, s2, s3, s3]);
    expect(batch[0].meta.steps).toEqual(['session']);
    expect(await redis.pttl(ks.session(`user_id=${u}`))).toBeGreaterThan(4 * GAP);
  });

  test('the session continues across batches', async () => {
    const stage = createSessionStage(redis, ks, step);
    const u = user();
    const a = [ev({ user_id: u }, T)];
    const b = [ev({ user_id: u }, T + 20 * MIN)];
    await stage.process(a, ctx);
    await stage.process(b, ctx);
    expect(b[0].meta.session_id).toBe(a[0].meta.session_id);
  });

  test('out of order within the gap joins the session and keeps its id; far older events get their own', async () => {
    const stage = createSessionStage(redis, ks, step);
    const u = user();
    const by = `user_id=${u}`;
    const batch = [
      ev({ user_id: u }, T + 100 * MIN),
      ev({ user_id: u }, T + 110 * MIN),
      ev({ user_id: u }, T + 105 * MIN), // inside the session
      ev({ user_id: u }, T + 80 * MIN), // before its start, within the gap: joins, id kept
      ev({ user_id: u }, T + 55 * MIN), // within the gap of the extended range (80): joins too
      ev({ user_id: u }, T + 10 * MIN), // 45 min before anything known: a session of its own
      ev({ user_id: u }, T + 20 * MIN), // joins that older session
    ];
    await stage.process(batch, ctx);
    const main = sessionId(topology, by, T + 100 * MIN);
    const old = sessionId(topology, by, T + 10 * MIN);
    expect(ids(batch)).toEqual([main, main, main, main, main, old, old]);
  });

  test('a replay of the same input, with the first pass state in Redis, gives the same ids', async () => {
    const stage = createSessionStage(redis, ks, step);
    const u1 = user();
    const u2 = user();
    // Mixed keys, gaps, out-of-order events and within-gap-of-two-sessions cases.
    const times = [0, 5, 40, 90, 71, 60, 200, 150, 165, 180, 30, 100, 120, 235, 236, 300, 268];
    const input = () => times.flatMap((m, i) => [ev({ user_id: u1 }, T + m * MIN), ev({ anonymous_id: `${u2}-a` }, T + (m + i) * MIN)]);
    const batches = (evs: PipelineEvent[]) => [evs.slice(0, 7), evs.slice(7, 20), evs.slice(20)];
    const first = input();
    for (const b of batches(first)) await stage.process(b, ctx);
    const firstIds = ids(first);
    expect(new Set(firstIds).size).toBeGreaterThan(4);
    // A crash before commit: the same events again, batched differently.
    const again = input();
    await stage.process(again.slice(0, 3), ctx);
    await stage.process(again.slice(3), ctx);
    expect(ids(again)).toEqual(firstIds);
    // ...and once more.
    const third = input();
    await stage.process(third, ctx);
    expect(ids(third)).toEqual(firstIds);
  });

  test('different keys are independent; by-fields are tried in order; unusable values give null', async () => {
    const stage = createSessionStage(redis, ks, step, { identity });
    const u = user();
    const a = `anon-${user()}`;
    const withUser = ev({ user_id: u, anonymous_id: a }, T);
    const anonOnly = ev({ anonymous_id: a }, T + MIN);
    const resolved = ev({ anonymous_id: a }, T + 2 * MIN);
    resolved.meta.user_id = u; // as the identity stage would set it
    const blockedUser = ev({ user_id: 'NULL', anonymous_id: a }, T + 3 * MIN);
    const nothing = ev({ user_id: '  ', other: 'x' }, T);
    const failed = ev({ user_id: u }, T);
    failed.failure = { reason: 'VALIDATION_FAILED', message: 'x', stage: 'validate' };
    await stage.process([withUser, anonOnly, resolved, blockedUser, nothing, failed], ctx);
    expect(withUser.meta.session_id).toBe(sessionId(topology, `user_id=${u}`, T));
    expect(resolved.meta.session_id).toBe(withUser.meta.session_id);
    expect(anonOnly.meta.session_id).toBe(sessionId(topology, `anonymous_id=${a}`, T + MIN));
    expect(blockedUser.meta.session_id).toBe(anonOnly.meta.session_id);
    expect(nothing.meta.session_id).toBeNull();
    expect(failed.meta.session_id).toBeUndefined();
    // Same user id under another topology: a different id.
    expect(sessionId('other', `user_id=${u}`, T)).not.toBe(withUser.meta.session_id);
  });

  test(`keeps at most ${SESSIONS_KEPT} sessions per key`, async () => {
    const stage = createSessionStage(redis, ks, step);
    const u = user();
    const batch = Array.from({ length: SESSIONS_KEPT + 4 }, (_, i) => ev({ user_id: u }, T + i * 2 * GAP));
    await stage.process(batch, ctx);
    expect(new Set(ids(batch)).size).toBe(SESSIONS_KEPT + 4);
    const raw = await redis.get(ks.session(`user_id=${u}`));
    expect(raw?.split(';')).toHaveLength(SESSIONS_KEPT);
  });
});

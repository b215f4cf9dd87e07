import { createIdentityStage, usableId, blockedSet } from '../../src/enrich/identity';
import { keys as makeKeys } from '../../src/state/keys';
import { createRedis, waitUntilReady, type RedisClient } from '../../src/state/redis';
import type { IdentityStep } from '../../src/topology/types';
import type { PipelineEvent } from '../../src/pipeline/event';
import { REDIS_URL, countCommands, deleteKeys, makeContext, makeEvent, randomName } from '../helpers/events';

const topology = randomName('id');
const ks = makeKeys(topology, 'tltest');
const ctx = makeContext(topology);
const step: IdentityStep = {
  kind: 'identity', anonymousId: 'anonymous_id', userId: 'user_id',
  ttlMs: 3_600_000, maxUsersPerAnonymousId: 3, blockedValues: ['null', 'undefined', '0', 'anonymous'],
};
let redis: RedisClient;
let seq = 0;
const anonId = () => `anon-${topology}-${++seq}`;
const T = 1_700_000_000_000;
const ev = (record: Record<string, unknown>, eventTime: number) => makeEvent({ record, eventTime, offset: ++seq });

beforeAll(async () => {
  redis = createRedis({ url: REDIS_URL });
  await waitUntilReady(redis);
});
afterAll(async () => {
  await deleteKeys(redis, ks.prefix);
  redis.disconnect();
});

describe('identity stage', () => {
  test('an identify links; later anonymous-only events get the user, in the same batch too', async () => {
    const links: PipelineEvent[] = [];
    const stage = createIdentityStage(redis, ks, step, { onLink: (e) => links.push(e) });
    const a = anonId();
    const before = ev({ anonymous_id: a }, T);
    const identify = ev({ anonymous_id: a, user_id: 'u-1' }, T + 10);
    const after = ev({ anonymous_id: a }, T + 20);
    const other = ev({ anonymous_id: anonId() }, T + 20);
    const calls = countCommands(redis);
    await stage.process([before, identify, after, other], ctx);
    expect(calls.count).toBe(1);
    expect(before.meta).toMatchObject({ user_id: null, anonymous_id: a, steps: ['identity'] });
    expect(identify.meta).toMatchObject({ user_id: 'u-1', anonymous_id: a });
    expect(after.meta).toMatchObject({ user_id: 'u-1', anonymous_id: a });
    expect(other.meta.user_id).toBeNull();
    expect(links).toEqual([identify]);
    expect(await redis.pttl(ks.identity(a))).toBeGreaterThan(3_500_000);

    const later = ev({ anonymous_id: a }, T + 5000);
    await stage.process([later], ctx);
    expect(later.meta.user_id).toBe('u-1');
  });

  test('most recent link at or before the event time wins; a replay answers the same', async () => {
    const stage = createIdentityStage(redis, ks, step);
    const a = anonId();
    const batch = () => [
      ev({ anonymous_id: a, user_id: 'u-1' }, T + 100),
      ev({ anonymous_id: a }, T + 150),
      ev({ anonymous_id: a, user_id: 'u-2' }, T + 200),
      ev({ anonymous_id: a }, T + 250),
      ev({ anonymous_id: a }, T + 120), // late event: attributed to the user linked at its time
    ];
    const first = batch();
    await stage.process(first, ctx);
    const users = (b: PipelineEvent[]) => b.map((e) => e.meta.user_id);
    expect(users(first)).toEqual(['u-1', 'u-1', 'u-2', 'u-2', 'u-1']);
    const replay = batch();
    await stage.process(replay, ctx);
    expect(users(replay)).toEqual(users(first));
  });

  test('blocked and non-string values never link and are not reported', async () => {
    const stage = createIdentityStage(redis, ks, step);
    const a = anonId();
    const cases = [
      ev({ anonymous_id: a, user_id: 'NULL' }, T),
      ev({ anonymous_id: a, user_id: '  undefined ' }, T),
      ev({ anonymous_id: a, user_id: '' }, T),
      ev({ anonymous_id: a, user_id: '   ' }, T),
      ev({ anonymous_id: a, user_id: 42 }, T),
      ev({ anonymous_id: a, user_id: { id: 'x' } }, T),
    ];
    await stage.process(cases, ctx);
    for (const c of cases) expect(c.meta.user_id).toBeNull();
    expect(await redis.exists(ks.identity(a))).toBe(0);

    const blockedAnon = ev({ anonymous_id: 'Anonymous', user_id: 'u-9' }, T);
    const blockedAnon2 = ev({ anonymous_id: '0' }, T + 1);
    await stage.process([blockedAnon, blockedAnon2], ctx);
    expect(blockedAnon.meta).toMatchObject({ anonymous_id: null, user_id: 'u-9' });
    expect(blockedAnon2.meta).toMatchObject({ anonymous_id: null, user_id: null });
    expect(await redis.exists(ks.identity('Anonymous'), ks.identity('anonymous'), ks.identity('0'))).toBe(0);
  });

  test('cap on users per anonymous id: further users are not linked (onMergeBlocked)', async () => {
    let blocked = 0;
    const stage = createIdentityStage(redis, ks, step, { onMergeBlocked: () => { blocked++; } });
    const a = anonId();
    const batch = ['u-1', 'u-2', 'u-3', 'u-4', 'u-5', 'u-2'].map((u, i) => ev({ anonymous_id: a, user_id: u }, T + i));
    await stage.process(batch, ctx);
    expect(batch.map((e) => e.meta.user_id)).toEqual(['u-1', 'u-2', 'u-3', 'u-4', 'u-5', 'u-2']);
    expect(blocked).toBe(2);
    expect((await redis.zrange(ks.identity(a), 0, -1)).sort()).toEqual(['u-1', 'u-2', 'u-3']);
    // Resolution keeps using the links that exist: u-2 was re-linked last (T + 5).
    const anon = ev({ anonymous_id: a }, T + 10);
    await stage.process([anon], ctx);
    expect(anon.meta.user_id).toBe('u-2');
  });

  test('events without an anonymous id need no round trip; failed events are skipped', async () => {
    const stage = createIdentityStage(redis, ks, step);
    const userOnly = ev({ user_id: 'u-7' }, T);
    const failed = ev({ anonymous_id: anonId(), user_id: 'u-8' }, T);
    failed.failure = { reason: 'VALIDATION_FAILED', message: 'x', stage: 'validate' };
    const calls = countCommands(redis);
    await stage.process([userOnly, failed], ctx);
    expect(calls.count).toBe(0);
    expect(userOnly.meta).toMatchObject({ user_id: 'u-7', anonymous_id: null, steps: ['identity'] });
    expect(failed.meta.steps).toEqual([]);
  });

  test('usableId compares trimmed and case-insensitively, keeps the value as sent', () => {
    const b = blockedSet([' None ']);
    expect(usableId('NONE', b)).toBeNull();
    expect(usableId(' u-1 ', b)).toBe(' u-1 ');
    expect(usableId(null, b)).toBeNull();
  });
});

import { createSessionStage, sessionId, type SessionOptions } from '../../src/enrich/session';
import { sessionMergedType, type SessionMerged } from '../../src/enrich/session-merged';
import { keys as makeKeys } from '../../src/state/keys';
import { createRedis, waitUntilReady, type RedisClient } from '../../src/state/redis';
import type { IdentityStep, SessionStep } from '../../src/topology/types';
import type { PipelineEvent, StageContext } from '../../src/pipeline/event';
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

  test('a late event before a session start moves the start and announces the new id', async () => {
    const merged: SessionMerged[] = [];
    const stage = createSessionStage(redis, ks, step, withMerges());
    const u = user();
    const by = `user_id=${u}`;
    const batch = [
      ev({ user_id: u }, T + 100 * MIN),
      ev({ user_id: u }, T + 110 * MIN),
      ev({ user_id: u }, T + 105 * MIN), // inside the session: nothing changes
      ev({ user_id: u }, T + 80 * MIN), // before its start, within the gap: the start moves to 80
    ];
    const c = ctxWithOutputs();
    await stage.process(batch, c);
    merged.push(...decode(c));
    const first = sessionId(topology, by, T + 100 * MIN);
    const moved = sessionId(topology, by, T + 80 * MIN);
    expect(ids(batch)).toEqual([first, first, first, moved]);
    expect(merged).toEqual([expect.objectContaining({ topology, key: by, merged_ids: [first], session_id: moved, start: T + 80 * MIN, end: T + 110 * MIN })]);
    expect(c.extraOutputs![0].key).toBe(`session|${moved}`);
    expect(c.extraOutputs![0].topic).toBe('slo.metrics');
    expect(await finalSessions(redis, ks, by)).toEqual([[T + 80 * MIN, T + 110 * MIN]]);
  });

  test('an event within the gap of two sessions merges them', async () => {
    const stage = createSessionStage(redis, ks, step, withMerges());
    const u = user();
    const by = `user_id=${u}`;
    const a = [ev({ user_id: u }, T), ev({ user_id: u }, T + 50 * MIN)];
    await stage.process(a, ctxWithOutputs());
    expect(new Set(ids(a)).size).toBe(2);
    const bridge = [ev({ user_id: u }, T + 25 * MIN)];
    const c = ctxWithOutputs();
    await stage.process(bridge, c);
    const merged = sessionId(topology, by, T);
    expect(bridge[0].meta.session_id).toBe(merged);
    // The earlier session keeps its start (and id); the later one's id is replaced.
    expect(decode(c)).toEqual([expect.objectContaining({ merged_ids: [sessionId(topology, by, T + 50 * MIN)], session_id: merged, start: T, end: T + 50 * MIN })]);
    expect(await finalSessions(redis, ks, by)).toEqual([[T, T + 50 * MIN]]);
  });

  test('sessions older than the allowed lateness are final', async () => {
    const stage = createSessionStage(redis, ks, step, { allowedLatenessMs: 10 * MIN });
    const u = user();
    const by = `user_id=${u}`;
    await stage.process([ev({ user_id: u }, T), ev({ user_id: u }, T + 100 * MIN)], ctxWithOutputs());
    // 45 min after the first session: within its gap, but 55 min behind the key's newest event.
    const late = [ev({ user_id: u }, T + 20 * MIN), ev({ user_id: u }, T - 20 * MIN), ev({ user_id: u }, T + 60 * MIN)];
    await stage.process(late, ctxWithOutputs());
    expect(ids(late)).toEqual([sessionId(topology, by, T), sessionId(topology, by, T), sessionId(topology, by, T + 60 * MIN)]);
    expect(await finalSessions(redis, ks, by)).toEqual([[T, T], [T + 100 * MIN, T + 100 * MIN]]);
  });

  test('a replay of the same batch (same partition and offsets) answers the same ids and merges', async () => {
    const stage = createSessionStage(redis, ks, step, withMerges());
    const u = user();
    const times = [0, 50, 25, 100, 75, -20, 300, 280];
    const input = (offset0: number) => times.map((m, i) => makeEvent({ record: { user_id: u }, eventTime: T + m * MIN, offset: offset0 + i, partition: 7 }));
    const committed = input(0).slice(0, 2);
    await stage.process(committed, ctxWithOutputs());
    const first = input(0).slice(2);
    const c1 = ctxWithOutputs();
    await stage.process(first, c1);
    const state = await redis.get(ks.session(`user_id=${u}`));
    // A crash before the commit: the same records again, from offset 2.
    const again = input(0).slice(2);
    const c2 = ctxWithOutputs();
    await stage.process(again, c2);
    expect(ids(again)).toEqual(ids(first));
    expect(decode(c2).map(({ emitted_at, ...m }) => m)).toEqual(decode(c1).map(({ emitted_at, ...m }) => m));
    expect(decode(c1).length).toBeGreaterThan(0);
    expect(await redis.get(ks.session(`user_id=${u}`))).toBe(state);
  });

  test('the same events in any order and over 1, 3 or 8 partitions give the same final sessions', async () => {
    // Three users, sessions that touch, bridge and stand alone; times in minutes.
    const base = [0, 12, 40, 41, 75, 140, 150, 165, 171, 200, 260, 262, 290, 400, 431, 455, 470, 600];
    const events = [0, 1, 2].flatMap((k) => base.map((m, i) => ({ id: `e${k}-${i}`, user: `u${k}`, t: T + (m + 7 * k * (i % 3)) * MIN })));
    const orders: Record<string, typeof events> = {
      ascending: [...events].sort((x, y) => x.t - y.t),
      descending: [...events].sort((x, y) => y.t - x.t),
      shuffled: shuffle(events, 19),
    };
    const results: string[] = [];
    for (const [orderName, ordered] of Object.entries(orders)) {
      for (const partitions of [1, 3, 8]) {
        const name = randomName(`so-${orderName}-${partitions}`);
        const k = makeKeys(name, 'tltest');
        const c = makeContext(name);
        const stage = createSessionStage(redis, k, step, { allowedLatenessMs: 86_400_000, merged: { topic: 'slo.metrics', schemaId: 1 } });
        // Records keyed by event id: a hash of the id picks the partition, as the SDK does.
        const byPartition = Array.from({ length: partitions }, () => [] as PipelineEvent[]);
        for (const e of ordered) {
          const p = hashOf(e.id) % partitions;
          byPartition[p].push(makeEvent({ record: { user_id: `${name}-${e.user}` }, eventTime: e.t, offset: byPartition[p].length, partition: p }));
        }
        // Batches of 5, the partitions taking turns (as fetches come back).
        const merges: SessionMerged[] = [];
        const handedOut = new Set<string>();
        for (let b = 0; byPartition.some((evs) => evs.length > b * 5); b++) {
          for (const evs of byPartition) {
            const batch = evs.slice(b * 5, b * 5 + 5);
            if (!batch.length) continue;
            const bc: StageContext = { ...c, extraOutputs: [] };
            await stage.process(batch, bc);
            merges.push(...decode(bc));
            for (const id of ids(batch)) handedOut.add(id!);
          }
        }
        // Every id an event got leads, through the merge records in order, to a final session.
        const replacedBy = new Map<string, string>();
        for (const m of merges) for (const old of m.merged_ids) replacedBy.set(old, m.session_id);
        const finalIds = new Set<string>();
        const finals: string[] = [];
        for (const u of ['u0', 'u1', 'u2']) {
          const by = `user_id=${name}-${u}`;
          for (const [start, end] of await finalSessions(redis, k, by)) {
            // Ids are per topology; compare them under one name.
            finals.push(`${u} ${start - T} ${end - T} ${sessionId('same', `user_id=${u}`, start)}`);
            finalIds.add(sessionId(name, by, start));
            // Whatever the order, the id a merge last announced for the session is its final id.
            const announced = merges.filter((m) => m.key === by && m.start === start);
            if (announced.length) expect(announced[announced.length - 1].session_id).toBe(sessionId(name, by, start));
          }
        }
        for (const id of handedOut) {
          let now = id;
          while (replacedBy.has(now)) now = replacedBy.get(now)!;
          expect(finalIds.has(now)).toBe(true);
        }
        if (orderName !== 'ascending') expect(merges.length).toBeGreaterThan(0);
        // The run's own keys, by name (a prefix scan of the shared Redis is slow).
        await redis.del(...['u0', 'u1', 'u2'].map((u) => k.session(`user_id=${name}-${u}`)), ...byPartition.map((_, p) => k.sessionLedger('raw.test', p)));
        results.push(finals.join('\n'));
      }
    }
    // The expected sessions, from the definition: neighbours at most the gap apart.
    const expected: string[] = [];
    for (const u of ['u0', 'u1', 'u2']) {
      const ts = events.filter((e) => e.user === u).map((e) => e.t).sort((x, y) => x - y);
      let start = ts[0];
      for (let i = 1; i <= ts.length; i++) {
        if (i === ts.length || ts[i] - ts[i - 1] > GAP) {
          expected.push(`${u} ${start - T} ${ts[i - 1] - T} ${sessionId('same', `user_id=${u}`, start)}`);
          start = ts[i];
        }
      }
    }
    expect(expected.length).toBeGreaterThan(9);
    for (const r of results) expect(r).toBe(expected.join('\n'));
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

  test('keeps at most maxSessionsPerKey sessions per key and reports the evictions', async () => {
    let evicted = 0;
    const stage = createSessionStage(redis, ks, { ...step, maxSessionsPerKey: 5 }, { onEvicted: (n) => (evicted += n) });
    const u = user();
    const batch = Array.from({ length: 9 }, (_, i) => ev({ user_id: u }, T + i * 2 * GAP));
    await stage.process(batch, ctx);
    expect(new Set(ids(batch)).size).toBe(9);
    expect(await finalSessions(redis, ks, `user_id=${u}`)).toHaveLength(5);
    expect(evicted).toBe(4);
  });

  test('the default bound is far above the old 8', async () => {
    const stage = createSessionStage(redis, ks, step);
    const u = user();
    const batch = Array.from({ length: 40 }, (_, i) => ev({ user_id: u }, T + i * 2 * GAP));
    await stage.process(batch, ctx);
    expect(await finalSessions(redis, ks, `user_id=${u}`)).toHaveLength(40);
  });
});

function withMerges(): SessionOptions {
  return { allowedLatenessMs: 86_400_000, merged: { topic: 'slo.metrics', schemaId: 1 } };
}

function ctxWithOutputs(): StageContext {
  return { ...ctx, extraOutputs: [] };
}

/** The SessionMerged records a batch added to its delivery. */
function decode(c: StageContext): SessionMerged[] {
  return (c.extraOutputs ?? []).map((m) => sessionMergedType.fromBuffer(m.value.subarray(5)) as SessionMerged);
}

/** [start, end] of each session kept in Redis for a by-value. */
async function finalSessions(r: RedisClient, k: ReturnType<typeof makeKeys>, by: string): Promise<number[][]> {
  const raw = (await r.get(k.session(by))) ?? '';
  return raw.split(';').slice(1).map((s) => s.split(',').map(Number));
}

function hashOf(text: string): number {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

/** Deterministic Fisher-Yates shuffle (a fixed seed: the test is the same every run). */
function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

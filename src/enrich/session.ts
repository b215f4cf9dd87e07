import { createHash } from 'node:crypto';
import { isLive, type PipelineEvent, type Stage } from '../pipeline/event';
import type { IdentityStep, SessionStep } from '../topology/types';
import type { Keys } from '../state/keys';
import { loadScripts, type RedisClient } from '../state/redis';
import { blockedSet } from './identity';

// Sessionization by inactivity gap, in event time, one script call per batch.
//
// The session id is derived, not random: sha256(topology, by-field=value, session start),
// where the start is the event time of the session's first event. Re-processing the same
// input after a crash therefore assigns the same ids (see session-n.lua for why the state
// already written by the first pass gives the same answer).
//
// Out-of-order events: one that falls inside a known session's time range, or within the
// gap of its nearest session, joins it. A session's start never moves backwards, even when
// an earlier event joins it, because its id was already handed out; its time range does
// grow, which is what keeps replays stable. Events farther back than any kept session start
// a session of their own (id from their own time). Only the newest SESSIONS_KEPT sessions per
// key are kept; an event replayed after its session was evicted may get a different id.
//
// The by-value: the first usable value among step.by. For the identity fields ('user_id' /
// 'anonymous_id' and the identity step's own field names) the identity stage's result
// (ev.meta.user_id / anonymous_id) comes first, then the record's field, so a resolved user
// id sessionizes anonymous events with the user's. Values are namespaced by field name
// (user "42" and anonymous id "42" are different sessions). No usable value: session_id null.

export const SESSIONS_KEPT = 8;
const DAY_MS = 86_400_000;

export interface SessionOptions {
  /** The topology's identity step, when it has one: its field names and blocked values apply here too. */
  identity?: IdentityStep;
}

/** Deterministic session id: 32 hex chars of sha256(topology, by key, start). */
export function sessionId(topology: string, byKey: string, start: number): string {
  return createHash('sha256').update(`${topology}\n${byKey}\n${start}`).digest('hex').slice(0, 32);
}

/** TTL of a session key: long enough to continue a session and to answer replays. */
export function sessionTtlMs(gapMs: number): number {
  return gapMs * 4 + DAY_MS;
}

export function createSessionStage(redis: RedisClient, keys: Keys, step: SessionStep, opts: SessionOptions = {}): Stage {
  const scripts = loadScripts(redis);
  const blocked = blockedSet(opts.identity?.blockedValues ?? []);
  const userFields = new Set(['user_id', ...(opts.identity ? [opts.identity.userId] : [])]);
  const anonFields = new Set(['anonymous_id', ...(opts.identity ? [opts.identity.anonymousId] : [])]);
  const gapMs = Math.max(0, Math.round(step.gapMs));
  const head = [String(gapMs), String(sessionTtlMs(gapMs)), String(SESSIONS_KEPT)];

  function usable(value: unknown): string | null {
    if (typeof value === 'number' || typeof value === 'bigint') value = String(value);
    if (typeof value !== 'string') return null;
    const norm = value.trim().toLowerCase();
    return norm === '' || blocked.has(norm) ? null : value;
  }

  /** `field=value` of the first usable by-field, or null. */
  function byKey(ev: PipelineEvent): string | null {
    const record = ev.record ?? {};
    for (const field of step.by) {
      const candidates: unknown[] = [];
      if (userFields.has(field)) candidates.push(ev.meta.user_id);
      if (anonFields.has(field)) candidates.push(ev.meta.anonymous_id);
      candidates.push(record[field]);
      for (const c of candidates) {
        const v = usable(c);
        if (v !== null) return `${field}=${v}`;
      }
    }
    return null;
  }

  return {
    name: 'session',
    async process(batch, ctx) {
      const pending: { ev: PipelineEvent; by: string }[] = [];
      const redisKeys: string[] = [];
      const args = [...head];
      for (const ev of batch) {
        if (!isLive(ev)) continue;
        ev.meta.steps.push('session');
        ev.meta.session_id = null;
        const by = byKey(ev);
        const t = ev.eventTime ?? ev.timestamp;
        if (by === null || !Number.isFinite(t)) continue;
        pending.push({ ev, by });
        redisKeys.push(keys.session(by));
        args.push(String(Math.round(t)));
      }
      if (pending.length === 0) return;
      const starts = (await scripts.run('session', redisKeys, args, 'session script')) as number[];
      const topology = ctx.topology.name;
      for (let i = 0; i < pending.length; i++) {
        pending[i].ev.meta.session_id = sessionId(topology, pending[i].by, Number(starts[i]));
      }
    },
  };
}

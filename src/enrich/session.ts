import { createHash } from 'node:crypto';
import { isLive, type PipelineEvent, type Stage } from '../pipeline/event';
import type { IdentityStep, SessionStep } from '../topology/types';
import type { Keys } from '../state/keys';
import { loadScripts, type RedisClient } from '../state/redis';
import { blockedSet } from './identity';
import { sessionMergedMessage, type SessionMerged, type SessionMergedTarget } from './session-merged';

// Sessionization by inactivity gap, in event time, one script call per batch. The rules are
// Kafka Streams' session windows (session-n.lua has them in full):
//
// - A session is a group of one key's events whose neighbours are at most `gap` apart. An
//   event within gap of two sessions merges them; a late event before a session's start
//   moves the start earlier. So the final sessions depend only on the events, not on the
//   order they arrived in (the SDK keys records by event id: one user's events are spread
//   over partitions and arrive in any order).
// - The session id is derived: sha256(topology, by-field=value, start), start = the event
//   time of the session's first event. A merge or a moved start changes the id: the stage
//   then adds a tracklane.SessionMerged record (old ids -> new id, start, end) to the batch's
//   delivery, on the metrics topic. An enriched event keeps the id it got when it was
//   processed; the SessionMerged records say what those ids became.
// - Events older than the key's highest event time minus windows.allowedLateness are late:
//   sessions that old are final, a late event changes none (it takes the session that holds
//   it, or an id from its own time).
// - At most step.maxSessionsPerKey sessions per key; beyond it the oldest is dropped and
//   onEvicted is called (tracklane_session_evicted_total).
// - A replay of the same batch after a crash (same partition and offsets) gets the replies of
//   the first pass from a per-partition ledger, so it emits the same ids and merges.
//
// The by-value: the first usable value among step.by. For the identity fields ('user_id' /
// 'anonymous_id' and the identity step's own field names) the identity stage's result
// (ev.meta.user_id / anonymous_id) comes first, then the record's field, so a resolved user
// id sessionizes anonymous events with the user's. Values are namespaced by field name
// (user "42" and anonymous id "42" are different sessions). No usable value: session_id null.

export const DEFAULT_MAX_SESSIONS_PER_KEY = 1000;
const DAY_MS = 86_400_000;

export interface SessionOptions {
  /** The topology's identity step, when it has one: its field names and blocked values apply here too. */
  identity?: IdentityStep;
  /** windows.allowedLateness of the topology (ms): how far back a late event may still change sessions. */
  allowedLatenessMs?: number;
  /** Where tracklane.SessionMerged records go; without it (no metrics output) merges are only in state and the debug log. */
  merged?: SessionMergedTarget;
  onEvicted?: (count: number) => void;
  now?: () => number;
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
  const latenessMs = Math.max(0, Math.round(opts.allowedLatenessMs ?? 0));
  const keep = Math.max(1, Math.floor(step.maxSessionsPerKey ?? DEFAULT_MAX_SESSIONS_PER_KEY));
  const head = [String(gapMs), String(sessionTtlMs(gapMs + latenessMs)), String(keep), String(latenessMs)];
  const now = opts.now ?? Date.now;

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
      const args = [...head, ctx.firstOffset ?? batch[0]?.offset ?? '0'];
      for (const ev of batch) {
        if (!isLive(ev)) continue;
        ev.meta.steps.push('session');
        ev.meta.session_id = null;
        const by = byKey(ev);
        const t = ev.eventTime ?? ev.timestamp;
        if (by === null || !Number.isFinite(t)) continue;
        pending.push({ ev, by });
        redisKeys.push(keys.session(by));
        args.push(String(Math.round(t)), ev.offset);
      }
      if (pending.length === 0) return;
      // A batch is one input partition (the ledger that makes replays answer the same).
      const ledger = keys.sessionLedger(batch[0].topic, batch[0].partition);
      const [starts, merges, evicted] = (await scripts.run('session', [ledger, ...redisKeys], args, 'session script')) as [number[], string[], number];
      const topology = ctx.topology.name;
      for (let i = 0; i < pending.length; i++) {
        const { ev, by } = pending[i];
        ev.meta.session_id = sessionId(topology, by, Number(starts[i]));
        if (!merges[i]) continue;
        const [start, end, ...old] = merges[i].split(',').map(Number);
        const record: SessionMerged = {
          topology, key: by,
          merged_ids: old.map((s) => sessionId(topology, by, s)),
          session_id: sessionId(topology, by, start),
          start, end, emitted_at: now(),
        };
        if (opts.merged) (ctx.extraOutputs ??= []).push(sessionMergedMessage(record, opts.merged));
        else ctx.log.debug({ ...record }, 'sessions merged');
      }
      if (Number(evicted) > 0) opts.onEvicted?.(Number(evicted));
    },
  };
}

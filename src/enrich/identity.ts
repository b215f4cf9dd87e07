import { isLive, type PipelineEvent, type Stage } from '../pipeline/event';
import type { IdentityStep } from '../topology/types';
import type { Keys } from '../state/keys';
import { loadScripts, type RedisClient } from '../state/redis';

// Identity stitching. An event with both an anonymous id and a user id links them; an event
// with only the anonymous id gets the user it was linked to. One script call per batch, in
// batch order, so an identify earlier in the batch applies to the events after it.
//
// Which user, when an anonymous id has several: the one linked most recently AT OR BEFORE
// the event's own time (a sorted set scored by the linking event's time). Bounding the
// lookup by the event's time keeps the answer the same when a batch is re-processed after
// a crash, even if later identifies were stored in between. An anonymous event older than
// every link stays unattributed (user_id null): links are not applied backwards.
//
// An anonymous id collects at most maxUsersPerAnonymousId users (a shared device, a bot,
// a placeholder id): beyond that no more links are made (onMergeBlocked) and resolution keeps
// using the links already there. The key expires ttlMs after it was last used.

export interface IdentityHooks {
  onLink?: (ev: PipelineEvent) => void;
  onMergeBlocked?: (ev: PipelineEvent) => void;
}

/** The blocked-value set of a step: trimmed and lower-cased, as values are compared. */
export function blockedSet(values: readonly string[]): Set<string> {
  return new Set(values.map((v) => v.trim().toLowerCase()));
}

/**
 * The id when it can identify someone: a string that is not blank and not a placeholder
 * listed in blockedValues (compared trimmed, case-insensitively). The value itself is kept
 * as sent (not trimmed), so it matches what other systems hold.
 */
export function usableId(value: unknown, blocked: ReadonlySet<string>): string | null {
  if (typeof value !== 'string') return null;
  const norm = value.trim().toLowerCase();
  if (norm === '' || blocked.has(norm)) return null;
  return value;
}

// Reply codes of identity-n.lua.
const LINKED = 1;
const BLOCKED = 3;
const RESOLVED = 4;

export function createIdentityStage(redis: RedisClient, keys: Keys, step: IdentityStep, hooks: IdentityHooks = {}): Stage {
  const scripts = loadScripts(redis);
  const blocked = blockedSet(step.blockedValues);
  const ttlMs = String(Math.max(1, Math.round(step.ttlMs)));
  const maxUsers = String(Math.max(0, Math.floor(step.maxUsersPerAnonymousId)));
  return {
    name: 'identity',
    async process(batch) {
      const pending: PipelineEvent[] = [];
      const redisKeys: string[] = [];
      const args: string[] = [ttlMs, maxUsers];
      for (const ev of batch) {
        if (!isLive(ev)) continue;
        ev.meta.steps.push('identity');
        const record = ev.record ?? {};
        const anon = usableId(record[step.anonymousId], blocked);
        const user = usableId(record[step.userId], blocked);
        ev.meta.anonymous_id = anon;
        ev.meta.user_id = user;
        if (anon === null) continue;
        pending.push(ev);
        redisKeys.push(keys.identity(anon));
        args.push(user ?? '', String(Math.round(ev.eventTime ?? ev.timestamp)));
      }
      if (pending.length === 0) return;
      const reply = (await scripts.run('identity', redisKeys, args, 'identity script')) as (number | string)[];
      for (let i = 0; i < pending.length; i++) {
        const ev = pending[i];
        const code = Number(reply[2 * i]);
        if (code === LINKED) hooks.onLink?.(ev);
        else if (code === BLOCKED) hooks.onMergeBlocked?.(ev);
        else if (code === RESOLVED) ev.meta.user_id = String(reply[2 * i + 1]);
      }
    },
  };
}

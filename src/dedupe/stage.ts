import { createHash } from 'node:crypto';
import { fail, isLive, type PipelineEvent, type Stage } from '../pipeline/event';
import type { DedupeSpec } from '../topology/types';
import type { Keys } from '../state/keys';
import { loadScripts, type RedisClient } from '../state/redis';
import { parseCoordinates, REPLAY_ORIGIN_HEADER } from './replay-header';

// Drops events whose idempotency key was already accepted from another source offset
// within the window (DESIGN.md section 8), with one script call per batch.
//
// Crash and replay. The first sighting is stored as "topic|partition|offset|fingerprint"
// before the batch's output is committed. If the engine dies after the script ran but before
// the offsets were committed (or the Kafka transaction aborts, or a rebalance hands the
// partition to another instance), the batch is re-read from the last committed offset: the
// same key now arrives from the same coordinates, the script answers REPLAY and the event
// passes through again. With exactly-once delivery the first attempt's output was aborted,
// so read_committed consumers see it once; with at-least-once they may see it twice, which
// is that mode's contract. A second event with the key from any other offset — in the same
// batch, another partition, another topic — is a DUPLICATE (same bytes) or a CONFLICT.
// Keys expire after the window, counted from the first sighting (never refreshed).
//
// Dead-letter replay. An event dead-lettered after this stage (consent, an enrichment
// step, an enriched record that does not fit its schema) had its key stored from its
// original offset, and never reached the enriched topic. `tracklane replay` re-sends it with
// a `tracklane-replay-origin` header naming that offset. When the stored entry is exactly
// that origin (coordinates and fingerprint), the replay takes the key over (RESUMED: the
// entry now names the replay's offset, TTL unchanged) and passes. A second copy of the same
// replay then finds the key held by the first one and is a DUPLICATE; a replay of the
// replay's own dead letter names the first replay's offset and passes. docs/state.md.

export interface DedupeHooks {
  /** An event dropped as a duplicate (also called for a conflict resolved by onConflict: drop). */
  onDuplicate?: (ev: PipelineEvent) => void;
  /** An event whose key was first seen with different content, whatever onConflict then does. */
  onConflict?: (ev: PipelineEvent, firstSighting: FirstSighting) => void;
}

export interface FirstSighting { topic: string; partition: number; offset: string; fingerprint: string }

/** First 16 hex chars of sha256(value bytes): tells a resend of the same bytes from a reused key. */
export function fingerprint(value: Buffer | null): string {
  return createHash('sha256').update(value ?? Buffer.alloc(0)).digest('hex').slice(0, 16);
}

export function parseSighting(stored: string): FirstSighting {
  const parts = stored.split('|');
  const fp = parts.pop() ?? '';
  const offset = parts.pop() ?? '';
  const partition = Number(parts.pop());
  return { topic: parts.join('|'), partition, offset, fingerprint: fp };
}

export function createDedupeStage(redis: RedisClient, keys: Keys, spec: DedupeSpec, hooks: DedupeHooks = {}): Stage {
  const scripts = loadScripts(redis);
  const windowMs = String(Math.max(1, Math.round(spec.windowMs)));
  return {
    name: 'dedupe',
    async process(batch) {
      const live = batch.filter((ev) => isLive(ev) && ev.idempotencyKey !== undefined);
      if (live.length === 0) return;
      const redisKeys = live.map((ev) => keys.dedupe(ev.idempotencyKey as string));
      const args = [windowMs];
      for (const ev of live) {
        const fp = fingerprint(ev.value);
        const origin = parseCoordinates(ev.headers[REPLAY_ORIGIN_HEADER]);
        args.push(`${ev.topic}|${ev.partition}|${ev.offset}|${fp}`, origin ? `${origin.topic}|${origin.partition}|${origin.offset}|${fp}` : '');
      }
      const reply = (await scripts.run('dedupe', redisKeys, args, 'dedupe script')) as (number | string)[];
      for (let i = 0; i < live.length; i++) {
        const ev = live[i];
        const code = Number(reply[2 * i]);
        if (code === 0 || code === 1 || code === 4) continue; // NEW, REPLAY, RESUMED: pass through
        if (code === 2) {
          ev.dropped = 'duplicate';
          hooks.onDuplicate?.(ev);
          continue;
        }
        const first = parseSighting(String(reply[2 * i + 1]));
        hooks.onConflict?.(ev, first);
        if (spec.onConflict === 'keep') continue;
        if (spec.onConflict === 'drop') {
          ev.dropped = 'duplicate';
          hooks.onDuplicate?.(ev);
          continue;
        }
        fail(ev, {
          reason: 'DUPLICATE_CONFLICT',
          stage: 'dedupe',
          message:
            `idempotency key already accepted with different content from ${first.topic} partition ${first.partition} ` +
            `offset ${first.offset} (within the ${spec.windowMs} ms dedupe window)`,
        });
      }
    },
  };
}

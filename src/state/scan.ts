import { Cluster, Redis } from 'ioredis';
import type { RedisClient } from './redis';

/**
 * Deletes every key under `prefix` (a topology's `tl:{name}` or any key prefix) with SCAN +
 * UNLINK, so the server never blocks. On a Cluster each master is scanned, since SCAN walks
 * one node. COUNT is large because the Redis may hold many other keys (other topologies'
 * dedupe keys live for their whole window) and each SCAN step is a round trip.
 * Used by the demo's reset, the tests' clean-up and the bench. Returns how many were deleted.
 */
export async function deleteKeysWithPrefix(redis: RedisClient, prefix: string): Promise<number> {
  const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const nodes: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis as Redis];
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', match, 'COUNT', 10_000);
      cursor = next;
      // One UNLINK per key on a Cluster would cross slots in one command; a node owns its keys.
      if (found.length > 0) deleted += await node.unlink(...found);
    } while (cursor !== '0');
  }
  return deleted;
}

// Two views of the engine's Redis traffic:
// - round trips, counted in this process: each command sent on its own plus each pipeline
//   (whose commands leave in one write). A script call is one round trip.
// - commands executed by the server (INFO commandstats), which also counts the commands a
//   Lua script runs. The server is shared with whatever else runs on the machine, so the
//   rate measured in an idle window before the run is subtracted.
import { Pipeline, Redis } from 'ioredis';
import type { Keys } from '../src/state/keys';
import type { RedisClient } from '../src/state/redis';
import { deleteKeysWithPrefix } from '../src/state/scan';

let roundTrips = 0;
const byCommand = new Map<string, number>();
let installed = false;

function count(name: string): void {
  roundTrips++;
  byCommand.set(name, (byCommand.get(name) ?? 0) + 1);
}

/** Round trips so far, in total and by command name ("pipeline" for a pipeline). */
export interface RoundTrips { total: number; byCommand: Record<string, number> }

/** Patches ioredis once for this process; only the engine uses Redis while it runs. */
export function countRoundTrips(): () => RoundTrips {
  if (!installed) {
    installed = true;
    type Send = (this: Redis, command: unknown, stream?: unknown, node?: unknown) => unknown;
    const proto = Redis.prototype as unknown as { sendCommand: Send };
    const send = proto.sendCommand;
    proto.sendCommand = function (this: Redis, command: unknown, stream?: unknown, node?: unknown) {
      // A pipeline hands its commands over with its own stream; exec counted them once.
      if (stream === undefined) count(String((command as { name?: string }).name));
      return send.call(this, command, stream, node);
    };
    const pipeProto = Pipeline.prototype as unknown as { exec: (...a: unknown[]) => unknown };
    const exec = pipeProto.exec;
    pipeProto.exec = function (this: unknown, ...a: unknown[]) {
      count('pipeline');
      return exec.apply(this, a);
    };
  }
  const start = roundTrips;
  const startBy = new Map(byCommand);
  return () => ({
    total: roundTrips - start,
    byCommand: Object.fromEntries([...byCommand].map(([k, v]) => [k, v - (startBy.get(k) ?? 0)]).filter(([, v]) => (v as number) > 0)),
  });
}

/** What the server executed: commands (those inside scripts included) and their CPU µs. */
export interface RedisLoad { calls: number; usec: number }

export async function serverCommands(redis: RedisClient): Promise<RedisLoad> {
  const info = await redis.info('commandstats');
  const total = { calls: 0, usec: 0 };
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    // INFO is the bench's own reading.
    if (m[1] === 'info') continue;
    total.calls += Number(m[2]);
    total.usec += Number(m[3]);
  }
  return total;
}

/** Server load per second while nobody in this process talks to Redis. */
export async function backgroundRate(redis: RedisClient, ms = 2000): Promise<RedisLoad> {
  const a = await serverCommands(redis);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const b = await serverCommands(redis);
  const s = (performance.now() - t0) / 1000;
  return { calls: Math.round((b.calls - a.calls) / s), usec: Math.round((b.usec - a.usec) / s) };
}

/** Bytes the server holds (INFO memory used_memory). */
export async function usedMemory(redis: RedisClient): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** Deletes every key under a bench run's prefix (SCAN + UNLINK, so the server never blocks). */
export async function deletePrefix(redis: RedisClient, k: Keys): Promise<void> {
  await deleteKeysWithPrefix(redis, `${k.prefix}:`);
}

import type { FaultCounts } from './faults';

// The size of a chaos run, from the environment. The default is the short form that `npm
// test` (and CI) runs; `npm run test:chaos` sets CHAOS_EVENTS=200000 for the full one.
//
//   CHAOS_EVENTS           records produced (unique + duplicates + conflicts + bad), default 20000
//   CHAOS_SEED             seed of the stream layout and the fault schedule, default 20261125
//   CHAOS_PARTITIONS       raw topic partitions, default 6
//   CHAOS_PRODUCE_SECONDS  how long production (and so the fault window) lasts
//   CHAOS_KILLS            kill -9 count (at least 5)
//   CHAOS_FAULTS           comma list of fault kinds to inject (default all):
//                          kill-9, join, redis-restart, kafka-restart, registry-outage

export interface ChaosConfig {
  events: number;
  seed: number;
  partitions: number;
  produceMs: number;
  faults: FaultCounts;
  registryOutageMs: number;
  testTimeoutMs: number;
}

const DEFAULT_SEED = 20_261_125;

function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${raw}: expected a non-negative integer`);
  return n;
}

export function chaosConfig(env: NodeJS.ProcessEnv = process.env): ChaosConfig {
  const events = intEnv(env, 'CHAOS_EVENTS', 20_000);
  const full = events >= 100_000;
  // Production is paced below what the engines manage on a busy 2-core machine, so the
  // faults hit a stream in motion rather than a backlog; the engines catch up afterwards.
  const produceMs = intEnv(env, 'CHAOS_PRODUCE_SECONDS', Math.max(150, Math.round(events / 250))) * 1_000;
  const only = env.CHAOS_FAULTS ? new Set(env.CHAOS_FAULTS.split(',').map((s) => s.trim())) : undefined;
  const pick = (kind: string, n: number) => (only && !only.has(kind) ? 0 : n);
  const faults: FaultCounts = {
    kills: pick('kill-9', intEnv(env, 'CHAOS_KILLS', full ? 8 : 5)),
    joins: pick('join', full ? 2 : 1),
    redisRestarts: pick('redis-restart', full ? 2 : 1),
    kafkaRestarts: pick('kafka-restart', 1),
    registryOutages: pick('registry-outage', 1),
  };
  return {
    events,
    seed: intEnv(env, 'CHAOS_SEED', DEFAULT_SEED),
    partitions: intEnv(env, 'CHAOS_PARTITIONS', 6),
    produceMs,
    faults,
    registryOutageMs: 30_000,
    testTimeoutMs: produceMs + 30 * 60_000,
  };
}

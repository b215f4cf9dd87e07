// Runs the real Engine in this process over a throw-away topology and measures it, and runs
// the kafkajs pass-through through the same harness.
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { initTopology } from '../src/engine/provision';
import { Engine } from '../src/engine';
import { STATEFUL_STEPS } from '../src/enrich/steps';
import type { Metrics } from '../src/observability/metrics';
import { keys as keysFor } from '../src/state/keys';
import type { RedisClient } from '../src/state/redis';
import type { Delivery } from '../src/topology/types';
import { createTopic, readBack, sustainedRate, waitForGroup, type Leftovers, type ReadBack } from './cluster';
import { latencySummary, measure, ratePerSecond, type Measured } from './measure';
import { startPacedProducer, type PacedProducer } from './paced-producer';
import { passThrough } from './passthrough';
import type { ProduceResult } from './produce';
import { countRoundTrips, serverCommands, type RedisLoad, type RoundTrips } from './redis-calls';
import { runName, writeBenchTopology } from './topology';
import type { WorkloadSpec } from './workload';

export interface BenchContext {
  kafka: Kafka;
  redis: RedisClient;
  dir: string;
  partitions: number;
  chunkSize: number;
  env: NodeJS.ProcessEnv;
  left: Leftovers;
  signal: AbortSignal;
  /** Server-side Redis load per second from others, measured before the runs. */
  redisBackground: RedisLoad;
}

export type Latency = ReturnType<typeof latencySummary>;

export interface RunResult {
  label: string;
  delivery: Delivery;
  events: number;
  /** Sustained, first to last output record (see cluster.sustainedRate). */
  eventsPerSecond?: number;
  latencyMs: Latency;
  cpuMsPer1kEvents: number;
  rssBeforeMb: number;
  peakRssMb: number;
  wallSeconds: number;
  /** Events finished per second of the run, from the 200 ms samples. */
  timeline: number[];
  outputRecords: number;
  /** Paced runs: the rate asked for, the rate the producer achieved, its worst delay, the unsampled start. */
  paced?: { rate: number; achieved: number; maxLagMs: number; warmupSeconds: number };
  /** Backlog runs: seconds between the end of the pre-produce and the start of this run. */
  backlogAgeSeconds?: number;
}

export interface EngineRunResult extends RunResult {
  topology: string;
  outcome: { enriched: number; duplicates: number; consentDropped: number; deadLettered: Record<string, number> };
  redis: {
    batches: number;
    roundTrips: number;
    roundTripsPerBatch: number;
    roundTripsByCommand: Record<string, number>;
    /** Stateful parts (dedupe, identity, session, SLI windows): the fewest round trips a batch can take. */
    floorPerBatch: number;
    serverCommands: number;
    serverCommandsPerBatch: number;
    /** Redis CPU per batch (commandstats usec), others' background taken off. */
    serverMsPerBatch: number;
  };
  /** Seconds spent in each pipeline stage over the run (tracklane_stage_seconds sums). */
  stageSeconds: Record<string, number>;
  /** Monotonic µs from start() to the last event done (what a --cpu-prof profile uses). */
  windowUs: { from: number; to: number };
}

/** Waits for `p` to settle, at most `ms`; its outcome is read later. */
const settled = (p: Promise<unknown>, ms: number) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, ms).unref())]);

const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;

async function counterSum(c: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await c.get()).values.reduce((s, v) => s + v.value, 0);
}

async function finished(m: Metrics): Promise<number> {
  const parts = await Promise.all([m.enriched, m.deadLettered, m.duplicates, m.consentDropped].map(counterSum));
  return parts.reduce((a, b) => a + b, 0);
}

async function stageStats(m: Metrics): Promise<{ seconds: Record<string, number>; batches: Record<string, number> }> {
  const seconds: Record<string, number> = {};
  const batches: Record<string, number> = {};
  for (const v of (await m.batchSeconds.get()).values as { metricName?: string; labels: { stage?: string | number }; value: number }[]) {
    const stage = String(v.labels.stage);
    if (v.metricName?.endsWith('_sum')) seconds[stage] = Math.round(v.value * 1000) / 1000;
    if (v.metricName?.endsWith('_count')) batches[stage] = v.value;
  }
  return { seconds, batches };
}

function pseudonymEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // The bench's own throw-away key unless the caller set one.
  return { ...env, TRACKLANE_PSEUDONYM_KEYS: env.TRACKLANE_PSEUDONYM_KEYS ?? `bench:${randomBytes(16).toString('hex')}` };
}

function pacedSummary(rate: number, p: ProduceResult): RunResult['paced'] {
  return { rate: Math.round(rate), achieved: Math.round(p.eventsPerSecond), maxLagMs: p.maxLagMs ?? 0, warmupSeconds: Math.round((p.warmupMs ?? 0) / 100) / 10 };
}

function runSummary(label: string, delivery: Delivery, events: number, m: Measured, rb: ReadBack, startedAt: number, backlog?: ProduceResult): RunResult {
  return {
    label, delivery, events,
    backlogAgeSeconds: backlog ? Math.round((startedAt - backlog.finishedAt) / 100) / 10 : undefined,
    eventsPerSecond: sustainedRate(rb, events),
    latencyMs: latencySummary(rb.latenciesMs),
    cpuMsPer1kEvents: Math.round((m.cpuMs / events) * 1000 * 10) / 10,
    rssBeforeMb: mb(m.rssBeforeBytes),
    peakRssMb: mb(m.peakRssBytes),
    wallSeconds: Math.round(m.seconds * 10) / 10,
    timeline: ratePerSecond(m.samples),
    outputRecords: rb.records,
  };
}

/**
 * The engine over `input`. Without `pace` the input is already there (the backlog); with it
 * a paced producer fills a fresh input topic while the engine runs.
 */
export async function runEngine(ctx: BenchContext, o: {
  label: string; delivery: Delivery; input?: { topic: string; produced: ProduceResult }; pace?: { rate: number; spec: WorkloadSpec };
}): Promise<EngineRunResult> {
  const name = runName(o.pace ? 'bench-paced' : 'bench');
  const inputTopic = o.input?.topic ?? `raw.${name}`;
  const bt = writeBenchTopology({ dir: ctx.dir, name, delivery: o.delivery, input: inputTopic, partitions: ctx.partitions });
  for (const t of [inputTopic, ...bt.outputTopics]) ctx.left.topics.add(t);
  for (const s of bt.subjects) ctx.left.subjects.add(s);
  ctx.left.groups.add(name);
  ctx.left.redisPrefixes.add(keysFor(name).prefix);
  await initTopology(bt.topology, ctx.env);

  const engine = new Engine({ topology: bt.topology, metricsPort: 0, instanceId: 'bench', env: pseudonymEnv(ctx.env), chunkSize: ctx.chunkSize });
  const events = o.pace?.spec.events ?? o.input!.produced.events;
  let paced: PacedProducer | undefined;
  const roundTrips = countRoundTrips();
  const commands0 = await serverCommands(ctx.redis);
  let measured: Measured;
  const startedAt = Date.now();
  let commands1: RedisLoad;
  let stages: Awaited<ReturnType<typeof stageStats>>;
  let trips: RoundTrips;
  const hrUs = () => Number(process.hrtime.bigint() / 1000n);
  const windowUs = { from: hrUs(), to: 0 };
  try {
    measured = await measure({
      label: o.label,
      expected: events,
      signal: ctx.signal,
      start: async () => {
        await engine.start();
        if (o.pace) {
          await waitForGroup(ctx.kafka, name);
          paced = startPacedProducer({ topic: inputTopic, spec: o.pace.spec, rate: o.pace.rate });
        }
      },
      done: () => finished(engine.metrics),
    });
    windowUs.to = hrUs();
    if (paced) await settled(paced.done, 30_000);
    trips = roundTrips();
    commands1 = await serverCommands(ctx.redis);
    stages = await stageStats(engine.metrics);
  } finally {
    paced?.stop();
    await engine.stop();
  }
  const produced = o.pace ? await paced!.done : o.input!.produced;
  const m = engine.metrics;
  const deadLettered: Record<string, number> = {};
  for (const v of (await m.deadLettered.get()).values) deadLettered[String(v.labels.reason)] = v.value;
  const outcome = { enriched: await counterSum(m.enriched), duplicates: await counterSum(m.duplicates), consentDropped: await counterSum(m.consentDropped), deadLettered };
  const outputs = outcome.enriched + Object.values(deadLettered).reduce((a, b) => a + b, 0);
  const rb = await readBack(ctx.kafka, [bt.topology.outputs.enriched.topic, bt.topology.outputs.deadLetter.topic], outputs, produced.samples);
  const batches = stages.batches.dedupe ?? 0;
  // Others share this Redis: their rate from before the runs is taken off.
  const serverCalls = Math.max(0, commands1.calls - commands0.calls - ctx.redisBackground.calls * measured.seconds);
  const serverUsec = Math.max(0, commands1.usec - commands0.usec - ctx.redisBackground.usec * measured.seconds);
  return {
    ...runSummary(o.label, o.delivery, events, measured, rb, startedAt, o.input?.produced),
    topology: name,
    outcome,
    redis: {
      batches,
      roundTrips: trips.total,
      roundTripsPerBatch: batches ? Math.round((trips.total / batches) * 100) / 100 : 0,
      roundTripsByCommand: trips.byCommand,
      // STYLE.md: one round trip per Kafka batch for each part of the pipeline that keeps state.
      floorPerBatch: (bt.topology.dedupe ? 1 : 0) + bt.topology.enrich.filter((s) => STATEFUL_STEPS.has(s.kind)).length + (bt.topology.slis.length ? 1 : 0),
      serverCommands: Math.round(serverCalls),
      serverCommandsPerBatch: batches ? Math.round(serverCalls / batches) : 0,
      serverMsPerBatch: batches ? Math.round(serverUsec / batches / 100) / 10 : 0,
    },
    stageSeconds: stages.seconds,
    windowUs,
    paced: o.pace ? pacedSummary(o.pace.rate, produced) : undefined,
  };
}

/** The kafkajs pass-through over the same input, measured by the same harness. */
export async function runPassThrough(ctx: BenchContext, o: {
  label: string; delivery: Delivery; input?: { topic: string; produced: ProduceResult }; pace?: { rate: number; spec: WorkloadSpec };
}): Promise<RunResult> {
  const name = runName(o.pace ? 'bench-pt-paced' : 'bench-pt');
  const inputTopic = o.input?.topic ?? `raw.${name}`;
  const output = `pt.${name}`;
  ctx.left.topics.add(inputTopic).add(output);
  ctx.left.groups.add(name);
  if (!o.input) await createTopic(ctx.kafka, inputTopic, ctx.partitions);
  await createTopic(ctx.kafka, output, ctx.partitions);
  const pt = passThrough({ kafka: ctx.kafka, input: inputTopic, output, delivery: o.delivery, groupId: name, chunkSize: ctx.chunkSize });
  const events = o.pace?.spec.events ?? o.input!.produced.events;
  let paced: PacedProducer | undefined;
  let measured: Measured;
  const startedAt = Date.now();
  try {
    measured = await measure({
      label: o.label,
      expected: events,
      signal: ctx.signal,
      start: async () => {
        await pt.start();
        if (o.pace) {
          await waitForGroup(ctx.kafka, name);
          paced = startPacedProducer({ topic: inputTopic, spec: o.pace.spec, rate: o.pace.rate });
        }
      },
      done: () => pt.done(),
    });
    if (paced) await settled(paced.done, 30_000);
  } finally {
    paced?.stop();
    await pt.stop();
  }
  const produced = o.pace ? await paced!.done : o.input!.produced;
  const rb = await readBack(ctx.kafka, [output], events, produced.samples);
  return {
    ...runSummary(o.label, o.delivery, events, measured, rb, startedAt, o.input?.produced),
    paced: o.pace ? pacedSummary(o.pace.rate, produced) : undefined,
  };
}

// One bench run, start to finish: the input once, Kafka's perf tools, then per delivery mode
// the kafkajs pass-through, the engine at full speed, the pass-through again (two baseline
// samples around the engine show how noisy the machine was), and both at half the engine's
// rate. Every figure is reported next to a baseline from this same run.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import type { Kafka } from 'kafkajs';
import { Registry, registryOptionsFromEnv } from '../src/decode/registry';
import { InfrastructureError } from '../src/errors';
import { logger } from '../src/observability/logger';
import { createKafka } from '../src/source/kafka';
import { createRedis, waitUntilReady, type RedisClient } from '../src/state/redis';
import type { Delivery } from '../src/topology/types';
import { cleanUp, createTopic, leftovers, withAdmin } from './cluster';
import type { CpuProfiler } from './cpu-profiler';
import { runEngine, runPassThrough, type BenchContext, type EngineRunResult, type RunResult } from './engine-run';
import { consumerPerf, producerPerf, type ConsumerPerf, type ProducerPerf } from './kafka-perf';
import { produceBacklog } from './produce';
import { progressBar } from '../src/cli/progress';
import { captureLogs, type LogCounts } from './log-capture';
import { backgroundRate, type RedisLoad } from './redis-calls';
import { benchDir } from './topology';
import { TARGET_VALUE_BYTES, Workload, checkoutSchemaText, expectedOutcome, type WorkloadSpec } from './workload';

export interface BenchOptions {
  events: number;
  partitions: number;
  deliveries: Delivery[];
  duplicates: number;
  bad: number;
  chunkSize: number;
  /** Only the pre-produce and one engine run at full speed (for profiling). */
  engineOnly: boolean;
  /** With engineOnly: V8's sampling profiler ran in this process during the engine run (it costs some CPU). */
  profile?: boolean;
  seed: number;
  /** Wall-clock cap of each half-rate run. */
  pacedSeconds: number;
}

export const TARGETS = {
  atLeastOnceVsPassThrough: 0.8,
  exactlyOnceVsPassThrough: 0.5,
  p99AtHalfRateMs: 250,
  peakRssMb: 300,
} as const;

export interface ModeReport {
  delivery: Delivery;
  passThrough: RunResult[];
  passThroughEventsPerSecond?: number;
  /** |a - b| / mean of the two pass-through samples. */
  passThroughSpread?: number;
  engine: EngineRunResult;
  passThroughHalf?: RunResult;
  engineHalf?: EngineRunResult;
  ratios: Record<string, number | undefined>;
  targets: Record<string, { value?: number; target: string; met?: boolean }>;
}

export interface BenchReport {
  at: string;
  options: BenchOptions;
  machine: { cpus: number; node: string; platform: string; loadBefore: number[]; loadAfter?: number[] };
  workload: {
    events: number;
    avgValueBytes: number;
    kinds: Record<string, number>;
    topology: string;
  };
  produce: { kafkajsEventsPerSecond: number; seconds: number; javaProducer?: ProducerPerf; ratioKafkajsToJava?: number };
  javaConsumer?: ConsumerPerf;
  /** Commands and server CPU µs per second on the shared Redis before the runs (others' load). */
  redisBackground: RedisLoad;
  modes: ModeReport[];
  /** Monotonic µs span of the first engine run at full speed (start to last event), to cut a --cpu-prof profile. */
  profileWindowUs?: { from: number; to: number };
  cleanup: string[];
  /** Log lines of the engine and kafkajs during the bench, "level: message" -> count. */
  logs?: LogCounts;
}

const ratio = (a?: number, b?: number) => (a !== undefined && b ? Math.round((a / b) * 1000) / 1000 : undefined);

async function checkStack(kafka: Kafka, redis: RedisClient): Promise<void> {
  await withAdmin(kafka, (a) => a.listTopics()).catch((err: Error) => {
    throw new InfrastructureError('kafka', `Kafka unreachable: ${err.message}`);
  });
  const { url } = registryOptionsFromEnv();
  await fetch(`${url.replace(/\/$/, '')}/subjects`, { signal: AbortSignal.timeout(5000) }).catch((err: Error) => {
    throw new InfrastructureError('registry', `schema registry unreachable at ${url}: ${err.message}`);
  });
  await waitUntilReady(redis, 10_000).catch((err: Error) => {
    throw new InfrastructureError('redis', `Redis unreachable: ${err.message}`);
  });
}

/** `profiler`, with engineOnly: switched on just before the engine run and off after it. */
export async function runBench(o: BenchOptions, signal: AbortSignal, profiler?: CpuProfiler): Promise<BenchReport> {
  // The engine logs on stdout; the bench's table is what belongs there.
  const logs = captureLogs();
  const env = process.env;
  const kafka = createKafka('tracklane-bench', env);
  const redis = createRedis({ env, log: logger, connectionName: 'tracklane-bench' });
  const left = leftovers();
  const tag = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const dir = benchDir(os.tmpdir());
  const report: BenchReport = {
    at: new Date().toISOString(),
    options: o,
    machine: { cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.arch()}`, loadBefore: os.loadavg().map((l) => +l.toFixed(2)) },
    workload: { events: o.events, avgValueBytes: 0, kinds: {}, topology: 'topologies/checkout.yaml + SLI browse-success, fresh names per run' },
    produce: { kafkajsEventsPerSecond: 0, seconds: 0 },
    redisBackground: { calls: 0, usec: 0 },
    modes: [],
    cleanup: [],
  };
  try {
    await checkStack(kafka, redis);
    const input = `raw.bench-in-${tag}`;
    left.topics.add(input);
    left.subjects.add(`${input}-value`);
    await createTopic(kafka, input, o.partitions);
    const schemaId = await new Registry(registryOptionsFromEnv(env)).register(`${input}-value`, checkoutSchemaText());
    const spec: WorkloadSpec = { seed: o.seed, events: o.events, duplicates: o.duplicates, bad: o.bad, schemaId };
    const workload = new Workload(spec);
    report.workload.kinds = expectedOutcome(workload, o.events);
    report.workload.avgValueBytes = Math.round(Array.from({ length: 200 }, (_, i) => workload.message(i * 7, Date.now()).value!.length).reduce((a, b) => a + b, 0) / 200);

    report.redisBackground = await backgroundRate(redis);
    const bar = progressBar('produce input', o.events);
    const produced = await produceBacklog({ kafka, topic: input, spec, onProgress: (n) => bar.update(n) }).finally(() => bar.stop());
    report.produce.kafkajsEventsPerSecond = Math.round(produced.eventsPerSecond);
    report.produce.seconds = +produced.seconds.toFixed(2);

    const ctx: BenchContext = { kafka, redis, dir, partitions: o.partitions, chunkSize: o.chunkSize, env, left, signal, redisBackground: report.redisBackground };
    const backlog = { topic: input, produced };

    if (o.engineOnly) {
      await profiler?.start();
      const engine = await runEngine(ctx, { label: `engine ${o.deliveries[0]}`, delivery: o.deliveries[0], input: backlog }).finally(() => profiler?.stop());
      report.profileWindowUs = engine.windowUs;
      report.modes.push({ delivery: o.deliveries[0], passThrough: [], engine, ratios: {}, targets: {} });
      return report;
    }

    const brokers = (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')[0].trim();
    const perfTopic = `perf.bench-${tag}`;
    left.topics.add(perfTopic);
    await createTopic(kafka, perfTopic, o.partitions);
    if (process.stderr.isTTY) process.stderr.write('baseline: Kafka ProducerPerformance / ConsumerPerformance (JVM)\n');
    report.produce.javaProducer = await producerPerf({ brokers, topic: perfTopic, records: o.events, recordSize: TARGET_VALUE_BYTES });
    report.produce.ratioKafkajsToJava = ratio(produced.eventsPerSecond, report.produce.javaProducer.recordsPerSecond);
    const perfGroup = `tracklane-bench-perf-${tag}`;
    left.groups.add(perfGroup);
    report.javaConsumer = await consumerPerf({ brokers, topic: input, records: o.events, group: perfGroup });

    for (const delivery of o.deliveries) {
      const pt1 = await runPassThrough(ctx, { label: `pass-through ${delivery} (1/2)`, delivery, input: backlog });
      const engine = await runEngine(ctx, { label: `engine ${delivery}`, delivery, input: backlog });
      report.profileWindowUs ??= engine.windowUs;
      const pt2 = await runPassThrough(ctx, { label: `pass-through ${delivery} (2/2)`, delivery, input: backlog });
      const rates = [pt1.eventsPerSecond, pt2.eventsPerSecond].filter((r): r is number => r !== undefined);
      const ptRate = rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : undefined;
      const mode: ModeReport = {
        delivery,
        passThrough: [pt1, pt2],
        passThroughEventsPerSecond: ptRate && Math.round(ptRate),
        passThroughSpread: rates.length === 2 && ptRate ? +(Math.abs(rates[0] - rates[1]) / ptRate).toFixed(3) : undefined,
        engine,
        ratios: {},
        targets: {},
      };
      if (engine.eventsPerSecond) {
        const rate = engine.eventsPerSecond / 2;
        const events = Math.max(1000, Math.min(o.events, Math.round(rate * o.pacedSeconds)));
        const pace = { rate, spec: { ...spec, events, seed: spec.seed + 1 } };
        mode.passThroughHalf = await runPassThrough(ctx, { label: `pass-through ${delivery} @${Math.round(rate)}/s`, delivery, pace });
        mode.engineHalf = await runEngine(ctx, { label: `engine ${delivery} @${Math.round(rate)}/s`, delivery, pace });
      }
      mode.ratios = {
        throughputVsPassThrough: ratio(engine.eventsPerSecond, ptRate),
        throughputVsJavaConsumer: ratio(engine.eventsPerSecond, report.javaConsumer.fetchRecordsPerSecond),
        throughputVsJavaProducer: ratio(engine.eventsPerSecond, report.produce.javaProducer.recordsPerSecond),
        p99HalfVsPassThrough: ratio(mode.engineHalf?.latencyMs.p99, mode.passThroughHalf?.latencyMs.p99),
        cpuVsPassThrough: ratio(engine.cpuMsPer1kEvents, avg(pt1.cpuMsPer1kEvents, pt2.cpuMsPer1kEvents)),
        peakRssVsPassThrough: ratio(engine.peakRssMb, Math.max(pt1.peakRssMb, pt2.peakRssMb)),
      };
      const want = delivery === 'at-least-once' ? TARGETS.atLeastOnceVsPassThrough : TARGETS.exactlyOnceVsPassThrough;
      const t = mode.ratios.throughputVsPassThrough;
      const p99 = mode.engineHalf?.latencyMs.p99;
      mode.targets = {
        throughputVsPassThrough: { value: t, target: `>= ${want}x`, met: t === undefined ? undefined : t >= want },
        p99AtHalfRateMs: { value: p99, target: `< ${TARGETS.p99AtHalfRateMs} ms`, met: p99 === undefined ? undefined : p99 < TARGETS.p99AtHalfRateMs },
        peakRssMb: { value: engine.peakRssMb, target: `< ${TARGETS.peakRssMb} MB`, met: engine.peakRssMb < TARGETS.peakRssMb },
      };
      report.modes.push(mode);
    }
    return report;
  } finally {
    report.machine.loadAfter = os.loadavg().map((l) => +l.toFixed(2));
    report.cleanup = await cleanUp(kafka, redis, left);
    redis.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
    logs.restore();
    report.logs = logs.counts;
  }
}

function avg(a?: number, b?: number): number | undefined {
  const xs = [a, b].filter((x): x is number => x !== undefined);
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : undefined;
}

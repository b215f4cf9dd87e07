import os from 'node:os';
import type http from 'node:http';
import type { Consumer } from 'kafkajs';
import { Registry, registryOptionsFromEnv } from '../decode/registry';
import { ReaderSchemas } from '../decode/reader';
import { createDecodeStage } from '../decode/stage';
import { createDedupeStage } from '../dedupe/stage';
import { createLineageStep } from '../enrich/lineage';
import { STATEFUL_STEPS, createStep } from '../enrich/steps';
import { startHttpServer } from '../observability/http';
import { logger } from '../observability/logger';
import { createMetrics, type Metrics } from '../observability/metrics';
import { createStatusPage, type StatusPage } from '../observability/status';
import type { Stage } from '../pipeline/event';
import { Pipeline } from '../pipeline/pipeline';
import { AtLeastOnceDelivery, ExactlyOnceDelivery, type Delivery } from '../sink/delivery';
import { createOutputBuilder } from '../sink/output-builder';
import { registerOutputSchemas } from '../sink/schemas';
import { ConsumeLoop, type BatchObserver } from '../source/consume-loop';
import { createKafka } from '../source/kafka';
import { install as installKafkajsPatches } from '../source/kafkajs-patches';
import { keys as keysFor } from '../state/keys';
import { createRedis, waitUntilReady, type RedisClient } from '../state/redis';
import { withRetry } from '../errors/retry';
import { SloObserver, registerSloSchemas } from '../slo/observer';
import type { Topology } from '../topology/types';
import { createValidateStage } from '../validate/stage';

export interface EngineOptions {
  topology: Topology;
  instanceId?: string;
  /** 0 disables the HTTP server (tests run several engines in one process). */
  metricsPort?: number;
  env?: NodeJS.ProcessEnv;
  chunkSize?: number;
}

/** Topology + real clients -> a running consume loop with metrics. `stop()` drains and leaves the group. */
export class Engine {
  readonly metrics: Metrics;
  readonly instanceId: string;
  private loop?: ConsumeLoop;
  private server?: http.Server;
  private statusPage?: StatusPage;
  private redis?: RedisClient;
  private pipeline?: Pipeline;
  private readonly log;

  constructor(private readonly o: EngineOptions) {
    this.instanceId = o.instanceId ?? `${os.hostname()}-${process.pid}`;
    this.log = logger.child({ topology: o.topology.name, instance: this.instanceId });
    const sliLabels = [...new Set(o.topology.slis.flatMap((s) => s.groupBy))];
    this.metrics = createMetrics(o.topology.name, sliLabels);
  }

  get ready(): boolean {
    return this.loop?.isRunning ?? false;
  }

  async start(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      // What was opened before the failure (Redis reconnects forever, the HTTP server, a
      // consumer) keeps the event loop alive: `run` would hang instead of exiting 2. Release it.
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  private async open(): Promise<void> {
    const { topology } = this.o;
    const patches = installKafkajsPatches();
    if (!patches.installed) {
      this.log.warn({ tooLate: patches.tooLate }, 'kafkajs was loaded before its patches could be installed: call install() from tracklane\'s source/kafkajs-patches before loading kafkajs');
    }
    const env = this.o.env ?? process.env;
    if (this.o.metricsPort) {
      this.statusPage = createStatusPage(topology, this.metrics);
      this.server = await startHttpServer(this.o.metricsPort, this.metrics.registry, { ready: () => this.ready, ...this.statusPage });
    }
    const registry = new Registry(registryOptionsFromEnv(env));
    // A registry that is still starting is waited for; one that stays away for a minute
    // ends `run` with exit code 2.
    const { readers, schemas } = await withRetry(
      async () => {
        const readers = await ReaderSchemas.load(registry, topology.sources);
        return { readers, schemas: await registerOutputSchemas(registry, topology, readers) };
      },
      { log: this.log, what: 'load schemas', signal: AbortSignal.timeout(60_000) },
    );

    const sloIds = topology.slis.length ? await withRetry(() => registerSloSchemas(registry, topology), { log: this.log, what: 'register SLO schemas', signal: AbortSignal.timeout(60_000) }) : undefined;
    // SLI windows live in Redis so that instances add up and restarts lose nothing.
    const needsRedis = !!topology.dedupe || topology.slis.length > 0 || topology.enrich.some((s) => STATEFUL_STEPS.has(s.kind));
    const keys = keysFor(topology.name);
    if (needsRedis) {
      this.redis = createRedis({ env, log: this.log, connectionName: `tracklane-${topology.name}` });
      await waitUntilReady(this.redis);
    }
    const deps = { topology, metrics: this.metrics, redis: this.redis, keys, env };
    const stages: Stage[] = [createDecodeStage(registry, readers), createValidateStage()];
    // Dedupe before enrichment: a duplicate must not link identities or extend sessions.
    if (topology.dedupe) {
      stages.push(createDedupeStage(this.redis!, keys, topology.dedupe));
    }
    for (const step of topology.enrich) stages.push(createStep(step, deps));
    stages.push(createLineageStep(topology, this.instanceId));
    this.pipeline = new Pipeline(stages, this.metrics);

    const kafka = createKafka(`tracklane-${topology.name}-${this.instanceId}`, env);
    const observers: BatchObserver[] = [];
    let slo: SloObserver | undefined;
    if (sloIds) {
      slo = new SloObserver({ topology, redis: this.redis!, keys, schemaIds: sloIds, metrics: this.metrics });
      observers.push(slo);
    }
    this.loop = new ConsumeLoop({
      kafka, topology, pipeline: this.pipeline, observers,
      outputs: createOutputBuilder(topology, schemas),
      delivery: (consumer: Consumer): Promise<Delivery> =>
        topology.delivery === 'exactly-once'
          ? Promise.resolve(new ExactlyOnceDelivery(kafka, topology.name, `tracklane-${topology.name}`))
          : AtLeastOnceDelivery.create(kafka, consumer),
      metrics: this.metrics,
      log: this.log,
      instanceId: this.instanceId,
      chunkSize: this.o.chunkSize,
      onAssigned: slo ? (assignment) => slo.onAssigned(assignment) : undefined,
    });
    await this.loop.start();
    this.log.info({ delivery: topology.delivery, sources: topology.sources.map((s) => s.topic) }, 'engine running');
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    await this.pipeline?.close();
    this.redis?.disconnect();
    this.statusPage?.stop();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.log.info('engine stopped');
  }
}

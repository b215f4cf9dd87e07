import os from 'node:os';
import { outputBytesCounter } from '../observability/cost';
import type http from 'node:http';
import type { Consumer } from 'kafkajs';
import { Registry, registryOptionsFromEnv } from '../decode/registry';
import { ReaderSchemas } from '../decode/reader';
import { createDecodeStage } from '../decode/stage';
import { createDedupeStage } from '../dedupe/stage';
import { createLineageStep } from '../enrich/lineage';
import { STATEFUL_STEPS, createStep } from '../enrich/steps';
import { registerSessionMerged } from '../enrich/session-merged';
import { readerVariables } from '../expr/schema-types';
import { startHttpServer } from '../observability/http';
import { logger } from '../observability/logger';
import { createMetrics, type Metrics } from '../observability/metrics';
import { createStatusPage, type StatusPage } from '../observability/status';
import type { Stage } from '../pipeline/event';
import { Pipeline, type PlacedStage } from '../pipeline/pipeline';
import { AtLeastOnceDelivery, ExactlyOnceDelivery } from '../sink/delivery';
import { outputTopics, readTopicLimits } from '../sink/limits';
import { createOutputBuilder } from '../sink/output-builder';
import { registerOutputSchemas } from '../sink/schemas';
import type { BatchObserver } from '../sink/output';
import { ConsumeLoop } from '../source/consume-loop';
import { createKafka } from '../source/kafka';
import { install as installKafkajsPatches } from '../source/kafkajs-patches';
import { keys as keysFor } from '../state/keys';
import { createRedis, waitUntilReady, type RedisClient } from '../state/redis';
import { withRetry } from '../errors/retry';
import { SloObserver, registerSloSchemas } from '../slo/observer';
import { assertExpressionsTypeCheck } from '../topology/expressions';
import type { Topology } from '../topology/types';
import { createValidateStage } from '../validate/stage';
import { BatchConductor } from './batch';
import { Health, recoveryBoundFromEnv } from './health';
import { IdleCloser } from './idle';
import { IdempotentIdleDelivery, TransactionalIdleDelivery } from '../sink/idle-delivery';

export interface EngineOptions {
  topology: Topology;
  instanceId?: string;
  /** 0 disables the HTTP server (tests run several engines in one process). */
  metricsPort?: number;
  env?: NodeJS.ProcessEnv;
  chunkSize?: number;
  /**
   * Extra steps run after the topology's enrichment steps, as `enrich[N].<name>` (tests: a
   * step that throws on one event). Not reachable from a topology file.
   */
  extraSteps?: Stage[];
  /** How long a crashed consumer may stay away before the engine gives up (default TRACKLANE_CONSUMER_RESTART_TIMEOUT, else 60 s). */
  recoveryBoundMs?: number;
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
  private conductor?: BatchConductor;
  private health?: Health;
  private idle?: IdleCloser;
  private stopping?: Promise<void>;
  private readonly log;
  private resolveFailed!: (err: unknown) => void;
  /**
   * Resolves (never rejects) when the engine stopped itself: a non-retriable error outside
   * per-event work, or a consumer that did not come back in time. The error is logged; the
   * engine is already stopped when this resolves. `tracklane run` exits 1.
   */
  readonly failed: Promise<unknown>;

  constructor(private readonly o: EngineOptions) {
    this.instanceId = o.instanceId ?? `${os.hostname()}-${process.pid}`;
    this.log = logger.child({ topology: o.topology.name, instance: this.instanceId });
    const sliLabels = [...new Set(o.topology.slis.flatMap((s) => s.groupBy))];
    this.metrics = createMetrics(o.topology.name, sliLabels);
    this.failed = new Promise((resolve) => (this.resolveFailed = resolve));
  }

  get ready(): boolean {
    return (this.loop?.isRunning ?? false) && (this.health?.ok ?? true);
  }

  /** Logs the error by name and stops the engine once; never retried, never spinning. */
  private fatal(err: unknown, what: string): void {
    if (this.stopping) return;
    const e = err as { name?: string; message?: string; code?: string; type?: string };
    this.log.fatal({ error: e?.name, code: e?.type ?? e?.code, message: e?.message ?? String(err) }, `fatal: ${what} (${e?.name ?? 'error'}: ${e?.message ?? String(err)}); stopping the engine`);
    void this.stop().catch(() => undefined).then(() => this.resolveFailed(err));
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
        // An SLI expression that names a field the reader schema lacks would fail on every event.
        assertExpressionsTypeCheck(topology, topology.sources.map((s) => readerVariables(readers.get(s), `source "${s.name}" (${s.subject} v${readers.get(s).version})`)));
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
    const metricsTopic = topology.outputs.metrics?.topic;
    const sessionMerged = metricsTopic && topology.enrich.some((s) => s.kind === 'session')
      ? await withRetry(() => registerSessionMerged(registry, metricsTopic), { log: this.log, what: 'register SessionMerged', signal: AbortSignal.timeout(60_000) })
      : undefined;
    const deps = { topology, metrics: this.metrics, redis: this.redis, keys, env, sessionMerged };
    const stages: PlacedStage[] = [{ path: 'decode', stage: createDecodeStage(registry, readers) }, { path: 'validate', stage: createValidateStage() }];
    // Dedupe before enrichment: a duplicate must not link identities or extend sessions.
    if (topology.dedupe) {
      stages.push({ path: 'dedupe', stage: createDedupeStage(this.redis!, keys, topology.dedupe) });
    }
    const steps = [...topology.enrich.map((step) => createStep(step, deps)), ...(this.o.extraSteps ?? [])];
    steps.forEach((stage, i) => stages.push({ path: `enrich[${i}].${stage.name}`, stage }));
    stages.push({ path: 'lineage', stage: createLineageStep(topology, this.instanceId) });
    this.pipeline = new Pipeline(stages, this.metrics);

    const kafka = createKafka(`tracklane-${topology.name}-${this.instanceId}`, env);
    // Read once: delivery cuts its sends under them, and a record above them is OVERSIZE.
    const limits = await withRetry(
      async () => {
        const admin = kafka.admin();
        await admin.connect();
        try {
          return await readTopicLimits(admin, outputTopics(topology));
        } finally {
          await admin.disconnect();
        }
      },
      { log: this.log, what: 'read output topic limits', signal: AbortSignal.timeout(60_000) },
    );
    const observers: BatchObserver[] = [];
    let slo: SloObserver | undefined;
    if (sloIds) {
      slo = new SloObserver({ topology, redis: this.redis!, keys, schemaIds: sloIds, metrics: this.metrics });
      observers.push(slo);
    }
    const health = new Health({
      boundMs: this.o.recoveryBoundMs ?? recoveryBoundFromEnv(env),
      log: this.log,
      giveUp: (problem, err) => this.fatal(err, `${problem} did not recover within the bound`),
    });
    this.health = health;
    const conductor = new BatchConductor({
      topology, pipeline: this.pipeline, observers,
      outputs: createOutputBuilder(topology, schemas, Date.now, limits),
      metrics: this.metrics, log: this.log, instanceId: this.instanceId,
    });
    this.conductor = conductor;
    this.loop = new ConsumeLoop({
      kafka, topology,
      handle: (chunk) => conductor.handle(chunk),
      connected: async (consumer: Consumer) => {
        conductor.useDelivery(
          topology.delivery === 'exactly-once'
            ? new ExactlyOnceDelivery(kafka, topology.name, `tracklane-${topology.name}`, health, limits)
            : await AtLeastOnceDelivery.create(kafka, consumer, limits),
        );
      },
      fatal: (err) => this.fatal(err, 'a batch failed with an error that is not retriable'),
      crashed: (err, restart) => {
        health.down('consumer', err);
        if (!restart) this.fatal(err, 'the consumer crashed and kafkajs will not restart it');
      },
      joined: (assignment) => {
        health.up('consumer');
        // A fenced producer of a partition this member no longer owns is not ours to wait for.
        health.upWhere('producer ', (problem) => Object.entries(assignment).some(([topic, parts]) => parts.some((p) => problem === `producer ${topic}[${p}]`)));
        slo?.onAssigned(assignment).catch((err) => this.log.warn({ error: (err as Error)?.message }, 'could not record the new assignment'));
      },
      metrics: this.metrics,
      log: this.log,
      chunkSize: this.o.chunkSize,
    });
    await this.loop.start();
    if (slo) {
      // Closes windows by the wall clock when every partition is idle (docs/slo.md "Idle close").
      const delivery = topology.delivery === 'exactly-once'
        ? new TransactionalIdleDelivery(kafka, topology.name, topology.sources[0].topic, limits)
        : new IdempotentIdleDelivery(kafka, limits);
      const onDelivered = outputBytesCounter(topology, this.metrics.outputBytes);
      this.idle = new IdleCloser({ topology, slo, delivery, instanceId: this.instanceId, log: this.log, onDelivered });
      this.idle.start();
    }
    this.log.info({ delivery: topology.delivery, sources: topology.sources.map((s) => s.topic) }, 'engine running');
  }

  /** Drains and leaves the group; safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    this.health?.close();
    await this.idle?.stop();
    await this.loop?.stop();
    await this.conductor?.close();
    await this.pipeline?.close();
    this.redis?.disconnect();
    this.statusPage?.stop();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.log.info('engine stopped');
  }
}

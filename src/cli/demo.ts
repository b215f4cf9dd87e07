import path from 'node:path';
import avro from 'avsc';
import type { Command } from 'commander';
import type { Message } from 'kafkajs';
import { Registry, registryOptionsFromEnv } from '../decode/registry';
import { toPlainJson } from '../decode/plain-json';
import { readWireFrame, writeAvroFrame } from '../decode/wire';
import { checkoutTraffic } from '../demo/traffic';
import { formatSnapshot, snapshot } from '../demo/summary';
import { Engine } from '../engine';
import { logger } from '../observability/logger';
import { packageRoot } from '../package-root';
import { PRODUCER_OPTIONS } from '../sink/producer';
import { createKafka } from '../source/kafka';
import { createRedis, waitUntilReady } from '../state/redis';
import { keys } from '../state/keys';
import { deleteKeysWithPrefix } from '../state/scan';
import { loadTopology } from '../topology/load';
import type { Topology } from '../topology/types';
import { action } from './command';
import { initTopology, topicsOf } from './init';
import { readTopic } from './read-topic';

const HOUR = 3_600_000;

/** The demo owns the example topology's topics and state: it starts them afresh each run. */
async function reset(topology: Topology): Promise<void> {
  const admin = createKafka('tracklane-demo').admin();
  await admin.connect();
  const existing = new Set(await admin.listTopics());
  const topics = topicsOf(topology).map((t) => t.topic).filter((t) => existing.has(t));
  if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 });
  await admin.deleteGroups([topology.name]).catch(() => undefined);
  await admin.disconnect();
  const redis = createRedis();
  await waitUntilReady(redis);
  await deleteKeysWithPrefix(redis, `${keys(topology.name).prefix}:`);
  redis.disconnect();
  // Topic deletion is asynchronous in Kafka; wait until the names are free again.
  for (let i = 0; i < 50; i++) {
    const a = createKafka('tracklane-demo').admin();
    await a.connect();
    const left = (await a.listTopics()).filter((t) => topics.includes(t));
    await a.disconnect();
    if (!left.length) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function produceTraffic(topology: Topology, now: number): Promise<{ sent: number; duplicates: number; bad: number }> {
  const source = topology.sources[0];
  const registry = new Registry(registryOptionsFromEnv());
  const latest = (await registry.latest(source.subject))!;
  const type = avro.Type.forSchema(JSON.parse(latest.schema));
  const producer = createKafka('tracklane-demo-traffic').producer(PRODUCER_OPTIONS);
  await producer.connect();
  let sent = 0, duplicates = 0, bad = 0;
  let batch: Message[] = [];
  const flush = async () => {
    if (batch.length) await producer.send({ topic: source.topic, messages: batch, acks: -1 });
    batch = [];
  };
  const plan = {
    start: now - 8 * HOUR, end: now, eventsPerMinute: 60, baseErrorRate: 0.0002, duplicateRate: 0.03, seed: 7,
    incident: { start: now - 2 * HOUR, end: now - 2 * HOUR + 10 * 60_000, errorRate: 0.15, region: 'us-east' },
  };
  for (const item of checkoutTraffic(plan)) {
    let value = writeAvroFrame(latest.id, type, item.event);
    // One in 200 values arrives mangled, as from a buggy producer: a dead letter, not a crash.
    if (!item.duplicate && sent % 200 === 199) {
      value = value.subarray(0, 9);
      bad++;
    }
    batch.push({ key: item.event.event_id, value, headers: item.traceparent ? { traceparent: item.traceparent } : {} });
    sent++;
    if (item.duplicate) duplicates++;
    if (batch.length >= 1000) await flush();
  }
  await flush();
  await producer.disconnect();
  return { sent, duplicates, bad };
}

async function printSamples(topology: Topology): Promise<void> {
  const registry = new Registry(registryOptionsFromEnv());
  const decode = async (v: Buffer | null) => {
    const frame = readWireFrame(v!);
    const w = await registry.writerSchema(frame.schemaId);
    return w.kind === 'avro' ? toPlainJson(w.type.fromBuffer(frame.payload)) : null;
  };
  const show = async (title: string, topic: string, max: number) => {
    process.stdout.write(`\n== ${title} (${topic}) ==\n`);
    await readTopic({ topic, fromBeginning: true, readCommitted: true, max, idleMs: 2000, onMessage: async (m) => {
      process.stdout.write(JSON.stringify(await decode(m.value)) + '\n');
    } });
  };
  await show('an enriched event', topology.outputs.enriched.topic, 1);
  const { metrics, alerts } = topology.outputs;
  if (!metrics || !alerts) return; // the demo topology has SLOs, so both are there
  await show('SLI windows (first 3)', metrics.topic, 3);
  process.stdout.write(`\n== alerts (${alerts.topic}) ==\n`);
  await readTopic({ topic: alerts.topic, fromBeginning: true, readCommitted: true, idleMs: 2000, onMessage: async (m) => {
    const a = (await decode(m.value)) as Record<string, unknown>;
    const at = a.status === 'resolved' ? a.ends_at : a.starts_at;
    process.stdout.write(`${new Date(Number(at)).toISOString()} ${String(a.status).padEnd(8)} ${a.severity} ${a.slo} ${a.tier}  burn ${Number(a.burn_rate_long).toFixed(1)}/${Number(a.burn_rate_short).toFixed(1)}  ${a.summary}\n`);
  } });
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the main job: the example topology over the local stack with 8 hours of sample traffic and an incident')
    .option('-t, --topology <file>', 'topology YAML', path.join(packageRoot(), 'topologies/checkout.yaml'))
    .option('--exit', 'stop after the summary instead of keeping the status page up')
    .action(
      action(async (opts: { topology: string; exit?: boolean }) => {
        process.env.TRACKLANE_PSEUDONYM_KEYS ??= 'demo:demo-only-key-not-for-production';
        // The summary is the demo's output; of the logs only what a user should act on
        // (warn and above), unless LOG_LEVEL asks for more. Child loggers are made from here on.
        if (process.env.LOG_LEVEL === undefined) logger.level = 'warn';
        const topology = loadTopology(opts.topology);
        const port = Number(process.env.TRACKLANE_METRICS_PORT ?? 9464);
        const say = (s: string) => process.stdout.write(s + '\n');
        say(`Tracklane demo: topology ${topology.name} v${topology.version} (${topology.delivery}); its topics and state start afresh.`);
        await reset(topology);
        await initTopology(topology);
        const engine = new Engine({ topology, metricsPort: port, instanceId: 'demo' });
        await engine.start();
        say(`engine running; status page http://127.0.0.1:${port}/  metrics http://127.0.0.1:${port}/metrics`);
        const now = Date.now();
        const traffic = await produceTraffic(topology, now);
        say(`sent ${traffic.sent} events spanning 8 hours of event time (${traffic.duplicates} resent duplicates, ${traffic.bad} mangled), an outage in us-east at ${new Date(now - 2 * HOUR).toISOString()} for 10 minutes\n`);
        if (process.stdout.isTTY) process.stdout.write('\n'.repeat(5));
        let last = 0;
        let lastAt = Date.now();
        let stable = 0;
        for (let i = 0; i < 600; i++) {
          await new Promise((r) => setTimeout(r, 1000));
          const s = await snapshot(engine.metrics);
          const rate = ((s.processed - last) * 1000) / (Date.now() - lastAt);
          stable = s.processed >= traffic.sent ? stable + 1 : 0;
          last = s.processed;
          lastAt = Date.now();
          const text = formatSnapshot(s, rate);
          if (process.stdout.isTTY) process.stdout.write(`\x1b[5F\x1b[J${text}\n`);
          else if (i % 5 === 0 || stable >= 3) say(text + '\n');
          if (stable >= 3) break;
        }
        await printSamples(topology);
        if (opts.exit || !process.stdout.isTTY) {
          await engine.stop();
          return;
        }
        say(`\nThe engine keeps running: open http://127.0.0.1:${port}/ — Ctrl-C to stop.`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        });
        await engine.stop();
      }),
    );
}

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AclOperationTypes as Op, AclPermissionTypes, AclResourceTypes as Res, Kafka, logLevel, ResourcePatternTypes, type AclEntry } from 'kafkajs';
import { Registry, registryOptionsFromEnv } from '../../src/decode/registry';
import { readWireFrame } from '../../src/decode/wire';
import { kafkaConfigFromEnv } from '../../src/source/kafka';
import { createRedis, waitUntilReady } from '../../src/state/redis';
import { ChildEngine } from '../helpers/child-engine';
import { writeFixture, type Fixture, type Order } from '../helpers/engine-fixture';
import type { Enriched } from '../helpers/outputs';

// The whole pipeline over authenticated, encrypted connections (docs/security.md, "The
// secured stack"): deploy/local/secure-stack.sh starts Kafka with only a SASL_SSL listener
// (SCRAM-SHA-512) and an authorizer, Redis with only TLS and an ACL user, and Apicurio with
// basic auth, next to the plain stack. User tracklane gets exactly the Kafka ACLs the docs
// list, and the CLI (`npm run build` first) nothing but the documented variables. The secured
// servers are started here and stopped again unless they were already running.

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'deploy/local/secure-stack.sh');
const BIN = path.join(ROOT, 'bin/tracklane.js');
const MIN = 60_000;
const PSEUDONYM_SECRET = 'secure-stack-pseudonym-secret-5e1d';

/** secure-stack.sh COMMAND, to the end. */
function secureStack(command: string, env: NodeJS.ProcessEnv = {}): { status: number | null; output: string } {
  const r = spawnSync('bash', [SCRIPT, command], { cwd: ROOT, encoding: 'utf8', timeout: 4 * MIN, env: { ...process.env, ...env } });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** The CLI run to the end (asynchronously, so several can run at once); LOG_LEVEL=debug would print stack traces too. */
function cli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 2 * MIN): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, LOG_LEVEL: 'debug', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d.toString()));
    child.stderr.on('data', (d) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (status) => { clearTimeout(timer); resolve({ status, output }); });
  });
}

function order(i: number): Order {
  return { event_id: `sec-${i}`, ts: Date.now() - 5_000, type: 'checkout', status: 'ok', region: 'eu', email: `person${i}@secure.example`, ip: null };
}

/**
 * What docs/security.md says the principal needs, granted by the broker's super user: `init`
 * creates the topics, `produce` writes the source, `run` reads it in the topology's group and
 * writes the outputs in transactions (`tracklane-<topology>-*`); plus this test's reader.
 */
async function grantTopologyAcls(env: NodeJS.ProcessEnv, adminPassword: string, f: Fixture, readerGroupPrefix: string): Promise<void> {
  const kafka = new Kafka({ ...kafkaConfigFromEnv('tracklane-test-secure-admin', { ...env, KAFKA_SASL_USERNAME: 'admin', KAFKA_SASL_PASSWORD: adminPassword }), logLevel: logLevel.NOTHING });
  const allow = (resourceType: Res, resourceName: string, operation: Op, prefixed = false): AclEntry => ({
    resourceType, resourceName, operation, principal: `User:${env.KAFKA_SASL_USERNAME}`, host: '*', permissionType: AclPermissionTypes.ALLOW,
    resourcePatternType: prefixed ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
  });
  const outputs = [f.enriched, f.dlq, f.metrics, f.alerts];
  const acl = [
    ...f.topics.flatMap((t) => [allow(Res.TOPIC, t, Op.CREATE), allow(Res.TOPIC, t, Op.DESCRIBE)]),
    allow(Res.TOPIC, f.raw, Op.WRITE), allow(Res.TOPIC, f.raw, Op.READ), allow(Res.GROUP, f.name, Op.READ),
    // The engine reads each output's max.message.bytes at start to size its sends.
    ...outputs.flatMap((t) => [allow(Res.TOPIC, t, Op.WRITE), allow(Res.TOPIC, t, Op.DESCRIBE_CONFIGS)]),
    allow(Res.TRANSACTIONAL_ID, `tracklane-${f.name}-`, Op.WRITE, true), allow(Res.TRANSACTIONAL_ID, `tracklane-${f.name}-`, Op.DESCRIBE, true),
    allow(Res.TOPIC, f.enriched, Op.READ), allow(Res.GROUP, readerGroupPrefix, Op.READ, true),
  ];
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl });
  } finally {
    await admin.disconnect();
  }
}

/** Reads `topic` from the start as the secured broker's client user until `expected` records arrived (or timeoutMs). */
async function readTopic(env: NodeJS.ProcessEnv, topic: string, groupId: string, expected: number, timeoutMs = MIN): Promise<Array<{ key: string; value: Buffer }>> {
  const kafka = new Kafka({ ...kafkaConfigFromEnv('tracklane-test-secure', env), logLevel: logLevel.NOTHING });
  // read_committed (kafkajs's default): the engine writes in transactions
  const consumer = kafka.consumer({ groupId });
  const got: Array<{ key: string; value: Buffer }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { got.push({ key: message.key!.toString(), value: message.value! }); } });
    const deadline = Date.now() + timeoutMs;
    while (got.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    // a moment more: a duplicate that slipped through would arrive right behind the rest
    await new Promise((r) => setTimeout(r, 1_000));
  } finally {
    await consumer.disconnect();
  }
  return got;
}

describe('the pipeline over SASL_SSL Kafka, Redis with TLS and ACL, and a registry with basic auth', () => {
  const startedFile = path.join(os.tmpdir(), `tracklane-secure-started-${process.pid}`);
  let env: NodeJS.ProcessEnv = {};
  let secrets: string[] = [];
  let adminPassword = '';
  let f: Fixture | undefined;
  let engine: ChildEngine | undefined;

  beforeAll(() => {
    fs.writeFileSync(startedFile, '');
    const up = secureStack('up', { TRACKLANE_STACK_STARTED: startedFile });
    if (up.status !== 0) throw new Error(`secure-stack.sh up failed (${up.status}):\n${up.output}`);
    const printed = secureStack('env');
    if (printed.status !== 0) throw new Error(`secure-stack.sh env failed:\n${printed.output}`);
    const settings = Object.fromEntries(printed.output.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    secrets = Object.entries(settings).filter(([k]) => k.endsWith('PASSWORD')).map(([, v]) => v);
    adminPassword = settings.KAFKA_ADMIN_PASSWORD;
    delete settings.KAFKA_ADMIN_PASSWORD; // the broker's super user; Tracklane runs as user tracklane
    env = { ...settings, TRACKLANE_PSEUDONYM_KEYS: `k1:${PSEUDONYM_SECRET}` };
    f = writeFixture({ delivery: 'exactly-once', dedupe: '{ key: event_id, window: 1h }' });
  }, 5 * MIN);

  afterAll(async () => {
    await engine?.stop();
    if (f) fs.rmSync(f.dir, { recursive: true, force: true });
    // stop only what this run started (someone may be using a secured stack started by hand)
    const started = fs.existsSync(startedFile) ? fs.readFileSync(startedFile, 'utf8').trim() : '';
    fs.rmSync(startedFile, { force: true });
    if (started) {
      const down = secureStack('down');
      if (down.status !== 0) throw new Error(`secure-stack.sh down failed (${down.status}):\n${down.output}`);
    }
  }, 2 * MIN);

  it('inits, produces, enriches exactly once with dedupe in Redis, and reads the enriched topic back, with only the documented ACLs', async () => {
    const fx = f!;
    const readerGroup = `secure-read-${crypto.randomUUID()}`;
    await grantTopologyAcls(env, adminPassword, fx, 'secure-read-');
    const init = await cli(['init', '-t', fx.file], env);
    expect(init).toMatchObject({ status: 0 });

    const events = path.join(fx.dir, 'events.jsonl');
    const orders = Array.from({ length: 20 }, (_, i) => order(i));
    // the last three are sent twice: dedupe, whose state is in the ACL-restricted Redis, drops the copies
    fs.writeFileSync(events, [...orders, ...orders.slice(-3)].map((o) => JSON.stringify(o)).join('\n') + '\n');
    const produce = await cli(['produce', '-t', fx.file, '--source', 'web', '--file', events], env);
    expect(produce).toMatchObject({ status: 0 });
    expect(produce.output).toContain('produced 23 events');

    engine = new ChildEngine(fx.file, env, 'secure');
    engine.start();
    await engine.waitForOutput(/running/, 2 * MIN);

    const records = await readTopic(env, fx.enriched, readerGroup, 20, 2 * MIN);
    expect(records.map((r) => r.key).sort()).toEqual(orders.map((o) => o.event_id).sort());
    // decoded with the writer schema fetched from the registry with basic auth
    const registry = new Registry(registryOptionsFromEnv(env));
    const hmac = (v: string) => 'k1:' + crypto.createHmac('sha256', PSEUDONYM_SECRET).update(v).digest('hex');
    for (const { key, value } of records) {
      const frame = readWireFrame(value);
      const writer = await registry.writerSchema(frame.schemaId);
      if (writer.kind !== 'avro') throw new Error('expected Avro');
      const enriched = writer.type.fromBuffer(frame.payload) as Enriched;
      expect(enriched.email).toBe(hmac(order(Number(key.slice(4))).email!));
      expect(enriched.tracklane.steps).toContain('pseudonymize');
    }

    // ...and the broker does enforce them: a topic outside the grants is refused
    const admin = new Kafka({ ...kafkaConfigFromEnv('tracklane-test-secure', env), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const refused = await admin.createTopics({ topics: [{ topic: `not-granted.${fx.name}` }] }).then(() => [], (err: { errors?: Array<{ type: string }> }) => (err.errors ?? []).map((e) => e.type));
      expect(refused).toEqual(['TOPIC_AUTHORIZATION_FAILED']);
    } finally {
      await admin.disconnect();
    }

    // the dedupe keys are in the secured Redis, under the key pattern the ACL user may touch
    const redis = createRedis({ env, connectionName: 'tracklane-test-secure' });
    try {
      await waitUntilReady(redis, 20_000);
      const keys = await redis.keys(`tl:{${fx.name}}:*`);
      expect(keys.length).toBeGreaterThanOrEqual(20);
      // ...and nothing else: the ACL refuses keys outside tl:*
      await expect(redis.set('outside-the-acl', '1')).rejects.toThrow(/NOPERM/);
    } finally {
      redis.disconnect();
    }
    console.log(`secure-stack: ${records.length} enriched records read back over SASL_SSL, dedupe keys in Redis over TLS`);
    expect(await engine.stop()).toBe(0);
  }, 5 * MIN);

  it('exits 2 on refused credentials, naming Kafka, Redis or the registry and never a password', async () => {
    const fx = f!;
    const wrong = { kafka: 'WRONG-KAFKA-PASSWORD-1c7e', redis: 'WRONG-REDIS-PASSWORD-9a0b', registry: 'WRONG-REGISTRY-PASSWORD-44f2' };
    // `run` meets Kafka and Redis at start-up; a refused registry makes `run` retry for a
    // minute (credentials may be mid-rotation), so `init` shows that one without the wait.
    const [kafka, redis, registry] = await Promise.all([
      cli(['run', '-t', fx.file, '--metrics-port', '0', '--instance-id', 'wrong-kafka'], { ...env, KAFKA_SASL_PASSWORD: wrong.kafka }),
      cli(['run', '-t', fx.file, '--metrics-port', '0', '--instance-id', 'wrong-redis'], { ...env, REDIS_PASSWORD: wrong.redis }),
      cli(['init', '-t', fx.file], { ...env, SCHEMA_REGISTRY_PASSWORD: wrong.registry }),
    ]);
    expect(kafka.status).toBe(2);
    expect(kafka.output).toMatch(/error: Kafka refused the SASL login .*\n\s+check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD/);
    expect(redis.status).toBe(2);
    expect(redis.output).toMatch(/error: Redis \(127\.0\.0\.1:\d+\) refused user tracklane: WRONGPASS.*\n\s+check REDIS_URL, REDIS_USERNAME, REDIS_PASSWORD/);
    expect(registry.status).toBe(2);
    expect(registry.output).toMatch(/error: schema registry at http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7 refused user tracklane \(HTTP 401\).*\n\s+check SCHEMA_REGISTRY_USERNAME, SCHEMA_REGISTRY_PASSWORD/);
    const markers = [...Object.values(wrong), ...secrets, PSEUDONYM_SECRET];
    for (const [component, { output }] of Object.entries({ kafka, redis, registry })) {
      expect({ component, leaked: markers.filter((m) => output.includes(m)) }).toEqual({ component, leaked: [] });
    }
  }, 3 * MIN);
});

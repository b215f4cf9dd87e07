import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { initTopology } from '../../src/engine/provision';
import { loadTopology } from '../../src/topology/load';
import { ChildEngine, freePort } from '../helpers/child-engine';
import { encodeV2, registerVersions, writeFixture, type Fixture, type Order } from '../helpers/engine-fixture';
import { readDecoded, type Enriched } from '../helpers/outputs';
import { consumeAll, deleteTopics, kafka, redisUrl, registryUrl } from '../helpers/stack-env';

// No secret, pseudonym key or raw personal value in logs (at LOG_LEVEL=debug), metric labels,
// the status page, enriched records or error messages (docs/security.md). Secrets are marker
// strings; the local stack needs none of them, so they are set where they do not break a run
// (registry basic auth and a Redis password are ignored by the local services; Kafka SASL is
// left off because a PLAINTEXT broker refuses it) and checked on the error paths otherwise.
// The engine runs as a child process (`npm run build` first).

const BIN = path.resolve(__dirname, '../../bin/tracklane.js');
const MIN = 60_000;

const SECRET = {
  pseudonymKey: 'PK-SECRET-MARKER-7f3a9c',
  registryPassword: 'REG-PASSWORD-MARKER-51d2',
  redisPassword: 'REDIS-PASSWORD-MARKER-a8e4',
  kafkaPassword: 'KAFKA-PASSWORD-MARKER-3b6f',
};
const PERSONAL = { email: 'pii.marker.', ip: '198.18.' };

function order(i: number, over: Partial<Order> = {}): Order {
  return {
    event_id: `sec-${i}`, ts: Date.now() - 5_000, type: 'checkout', status: i % 7 === 0 ? 'error' : 'ok', region: ['eu', 'us'][i % 2],
    email: `${PERSONAL.email}${i}@person.example`, ip: `${PERSONAL.ip}${(i >> 8) & 255}.${i & 255}`, ...over,
  };
}

/** Every marker that must not appear in `text`, with where it was found. */
function leaks(text: string, markers: Record<string, string>): string[] {
  return Object.entries(markers).filter(([, m]) => text.includes(m)).map(([name, m]) => `${name} (${m})`);
}

/** Runs the CLI to the end; `LOG_LEVEL=debug` so that a stack trace would be printed too. */
function cli(args: string[], env: NodeJS.ProcessEnv, timeout = 90_000): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout, env: { ...process.env, LOG_LEVEL: 'debug', ...env } });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Runs the CLI for a while (it would retry for a minute), then ends it: its output so far. */
async function cliFor(ms: number, args: string[], env: NodeJS.ProcessEnv, until?: RegExp): Promise<string> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, LOG_LEVEL: 'debug', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d.toString()));
  child.stderr.on('data', (d) => (output += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && child.exitCode === null && !(until && until.test(output))) await new Promise((r) => setTimeout(r, 200));
  if (child.exitCode === null) child.kill('SIGKILL');
  await exited;
  return output;
}

describe('secrets and personal values stay out of logs, metrics, records and errors', () => {
  let f: Fixture;
  let engine: ChildEngine | undefined;
  let port: number;
  const env: NodeJS.ProcessEnv = {
    LOG_LEVEL: 'debug',
    TRACKLANE_PSEUDONYM_KEYS: `k1:${SECRET.pseudonymKey}`,
    SCHEMA_REGISTRY_USERNAME: 'tracklane',
    SCHEMA_REGISTRY_PASSWORD: SECRET.registryPassword,
    REDIS_URL: redisUrl().replace('redis://', `redis://:${SECRET.redisPassword}@`),
    KAFKA_SASL_PASSWORD: SECRET.kafkaPassword,
  };

  beforeAll(async () => {
    f = writeFixture({
      dedupe: '{ key: event_id, window: 1h }',
      extra: `  slis:
    - name: ok-rate
      ratio: { good: "status == 'ok'" }
      groupBy: [region]
  slos:
    - name: availability
      sli: ok-rate
      objective: 0.99
`,
    });
    const { v2 } = await registerVersions(f.subject);
    await initTopology(loadTopology(f.file));
    const producer = kafka().producer();
    await producer.connect();
    const valid = Array.from({ length: 300 }, (_, i) => ({ key: `sec-${i}`, value: encodeV2(v2, order(i)) }));
    // Bad events carry personal values too: they become dead letters, which keep them.
    const bad = Array.from({ length: 20 }, (_, i) => ({ key: `bad-${i}`, value: encodeV2(v2, order(1000 + i, { event_id: `bad-${i}`, ts: Date.now() + 86_400_000 })) }));
    await producer.send({ topic: f.raw, messages: [...valid, ...bad] });
    await producer.disconnect();
    port = await freePort();
    engine = new ChildEngine(f.file, env, 'security', port);
    engine.start();
    await engine.waitForOutput(/running/, 2 * MIN);
  }, 4 * MIN);

  afterAll(async () => {
    await engine?.stop();
    await deleteTopics(f.topics);
    fs.rmSync(f.dir, { recursive: true, force: true });
  }, MIN);

  it('keeps them out of the debug log, /metrics, the status page and the enriched records', async () => {
    const enriched = await readDecoded<Enriched>(f.enriched, { expected: 300 });
    expect(enriched).toHaveLength(300);
    const letters = await consumeAll(f.dlq, { readCommitted: true, expected: 20, timeoutMs: MIN });
    expect(letters).toHaveLength(20);

    const get = async (p: string) => (await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(10_000) })).text();
    const metrics = await get('/metrics');
    expect(metrics).toMatch(/tracklane_sli_events_total\{[^}]*region="eu"/); // the labels are there...
    // ...and the counts add up: every valid event counted once, good ones as good
    const sum = (name: string) => [...metrics.matchAll(new RegExp(`^${name}\\{[^}]*sli="ok-rate"[^}]*\\} (\\d+)`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
    expect(sum('tracklane_sli_events_total')).toBe(300);
    expect(sum('tracklane_sli_good_total')).toBe(enriched.filter((e) => (e.value as unknown as { status: string }).status === 'ok').length);
    const surfaces: Record<string, string> = {
      'debug log': engine!.output,
      '/metrics': metrics,
      'status page': (await get('/')) + (await get('/status.json')),
      'enriched records': enriched.map((e) => `${e.message.key?.toString('latin1')} ${e.message.value!.toString('latin1')} ${JSON.stringify(e.message.headers)}`).join('\n'),
    };
    const markers = { ...SECRET, ...PERSONAL };
    const found = Object.entries(surfaces).flatMap(([where, text]) => leaks(text, markers).map((m) => `${where}: ${m}`));
    console.log(`security: checked ${Object.keys(surfaces).length} surfaces (debug log ${engine!.output.length} chars, /metrics ${metrics.length} chars, ${enriched.length} enriched records) for ${Object.keys(markers).length} markers: ${found.length} leaks`);
    expect(found).toEqual([]);

    // ...the personal fields are pseudonyms made with the key...
    const hmac = (v: string) => 'k1:' + crypto.createHmac('sha256', SECRET.pseudonymKey).update(v).digest('hex');
    for (const { value } of enriched.slice(0, 20)) expect(value.email).toBe(hmac(order(Number(value.event_id.slice(4))).email!));
    // ...and the dead-letter topic does hold raw input: it is as sensitive as the source topics.
    expect(letters.some((l) => l.value!.toString('latin1').includes(PERSONAL.email))).toBe(true);
  });

  it('does not print a malformed TRACKLANE_PSEUDONYM_KEYS', () => {
    const variants = [
      `k1:${SECRET.pseudonymKey.slice(0, 12)}`, // shorter than 16
      `bad id!:${SECRET.pseudonymKey}`, // invalid key id
      `k1:${SECRET.pseudonymKey}-a,k1:${SECRET.pseudonymKey}-b`, // a key id twice
      SECRET.pseudonymKey, // no "kid:"
      `:${SECRET.pseudonymKey}`,
      `k1:${SECRET.pseudonymKey},${SECRET.pseudonymKey}`,
    ];
    for (const keys of variants) {
      const r = cli(['run', '-t', f.file, '--metrics-port', '0'], { ...env, TRACKLANE_PSEUDONYM_KEYS: keys });
      expect({ keys, status: r.status }).toEqual({ keys, status: 1 });
      expect(r.output).toMatch(/TRACKLANE_PSEUDONYM_KEYS/);
      expect(leaks(r.output, { secret: SECRET.pseudonymKey.slice(0, 12) })).toEqual([]);
      expect(r.output).not.toMatch(/^ {4}at /m);
    }
  }, 5 * MIN);

  it('does not print registry, Redis or Kafka passwords when they fail', async () => {
    const registry = new URL(registryUrl());
    const closed = await freePort();
    const badRegistry = `${registry.protocol}//tracklane:${SECRET.registryPassword}@127.0.0.1:${closed}${registry.pathname}`;
    const outputs: Record<string, string> = {};

    // init gives up at once (exit 2); run retries for a minute, so its first retries are read.
    const init = cli(['init', '-t', f.file], { ...env, SCHEMA_REGISTRY_USERNAME: '', SCHEMA_REGISTRY_PASSWORD: '', SCHEMA_REGISTRY_URL: badRegistry });
    expect(init.status).toBe(2);
    outputs['init, registry URL with user:password@'] = init.output;
    outputs['run, registry URL with user:password@'] = await cliFor(15_000, ['run', '-t', f.file, '--metrics-port', '0'], { ...env, SCHEMA_REGISTRY_USERNAME: '', SCHEMA_REGISTRY_PASSWORD: '', SCHEMA_REGISTRY_URL: badRegistry }, /backing off[\s\S]*backing off/);
    outputs['run, registry with basic auth unreachable'] = await cliFor(15_000, ['run', '-t', f.file, '--metrics-port', '0'], { ...env, SCHEMA_REGISTRY_URL: `http://127.0.0.1:${closed}/apis/ccompat/v7` }, /backing off/);

    // Redis: a password in an unreachable URL, and in a URL that does not parse.
    outputs['run, Redis unreachable'] = await cliFor(15_000, ['run', '-t', f.file, '--metrics-port', '0'], { ...env, REDIS_URL: `redis://:${SECRET.redisPassword}@127.0.0.1:${closed}` }, /redis connection error/);
    const badRedis = cli(['run', '-t', f.file, '--metrics-port', '0'], { ...env, REDIS_URL: `redis://:${SECRET.redisPassword}@127.0.0.1:not-a-port` });
    expect(badRedis.status).toBe(1);
    outputs['run, REDIS_URL that does not parse'] = badRedis.output;

    // Kafka SASL/SCRAM against the PLAINTEXT broker fails the handshake.
    outputs['init, Kafka SASL refused'] = await cliFor(60_000, ['init', '-t', f.file], { ...env, KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'tracklane' });
    outputs['init, SASL mechanism without a password'] = cli(['init', '-t', f.file], { ...env, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'tracklane', KAFKA_SASL_PASSWORD: '' }).output;

    const found = Object.entries(outputs).flatMap(([where, text]) => leaks(text, SECRET).map((m) => `${where}: ${m}`));
    console.log(`security: ${Object.keys(outputs).length} failing runs checked: ${Object.entries(outputs).map(([k, v]) => `${k} (${v.length} chars)`).join('; ')}; ${found.length} leaks`);
    expect(found).toEqual([]);
    expect(Object.values(outputs).every((o) => o.length > 0)).toBe(true);
  }, 5 * MIN);
});

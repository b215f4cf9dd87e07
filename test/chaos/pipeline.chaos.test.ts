import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Registry, registryOptionsFromEnv } from '../../src/decode/registry';
import type { Alert, SliWindow } from '../../src/slo/records';
import { initTopologyRetrying } from '../helpers/duplicate-stream';
import { checkoutSlisYaml, registerVersions, writeFixture, type Fixture } from '../helpers/engine-fixture';
import { decode, type DeadLetter, type Enriched } from '../helpers/outputs';
import { RedisServer } from '../helpers/redis-server';
import { deleteTopics, registryUrl, uniqueName } from '../helpers/stack-env';
import { TcpProxy } from '../helpers/tcp-proxy';
import { compare, table, type Observed, type ObservedEnriched, type ObservedWindow } from './checks';
import { chaosConfig } from './config';
import { EngineCluster } from './engines';
import { FaultDriver, ensureKafkaUp, planFaults, type FaultRecord } from './faults';
import { PacedProducer, committedInput, deleteGroups, readTopic, waitInputCommitted } from './kafka-io';
import { MIN, STEP_MS, UNRELATED_SCHEMA, buildStream, fingerprint, type ChaosStream } from './stream';
import { alertDiagnostics } from './diagnostics';
import { computeTruth, planIndex, type RawRecord, type SloModel } from './truth';

// Issue 6: the whole pipeline (decode, validate, dedupe, correlation, identity, session,
// pseudonymize, SLI windows, SLO alerts) with `delivery: exactly-once`, while a seeded driver
// kills engine instances with -9, lets a second instance join and leave, restarts Redis (its
// own, persisting redis-server), restarts the Kafka broker and makes the registry
// unreachable for 30 s. At the end every output is compared with a ground truth computed
// here from the raw topic as it really is (test/chaos/truth.ts), and the faults and the
// discrepancies are printed as tables.
//
// Size from the environment (test/chaos/config.ts): `npm test` runs the short form (20,000
// records, 5 kills, one of each other fault); `npm run test:chaos` the full one
// (CHAOS_EVENTS=200000). CHAOS_SEED repeats a run. The engines are child processes running
// the built CLI: `npm run build` first (with-stack.sh does).

const cfg = chaosConfig();
const SECRET = 'chaos-secret-0123456789abcdef';
const PSEUDONYM_KEYS = `k1:${SECRET}`;
const WINDOWS = { allowedLatenessMs: 10 * MIN };
const SLOS: SloModel[] = [
  { name: 'checkout-availability', sli: 'checkout-success', objective: 0.999, minEvents: 500 },
  { name: 'checkout-speed', sli: 'checkout-latency', objective: 0.99, minEvents: 500 },
];

// Windows: a kill -9 stalls the victim's partitions for the 30 s session timeout while the
// survivor runs ahead in event time; idleTimeout (wall clock) far above that keeps the stalled
// partitions holding the watermark back, and allowedLateness covers the ~1 minute of event
// time by which a cross-partition copy may be out of order. Nothing can be late.
const EXTRA = `${checkoutSlisYaml({ allowedLateness: '10m', idleTimeout: '10m' })}  slos:
${SLOS.map((s) => `    - name: ${s.name}\n      sli: ${s.sli}\n      objective: ${s.objective}\n      period: 30d\n      minEvents: ${s.minEvents}\n      alerting: { tiers: google-sre }`).join('\n')}
`;

const started = Date.now();
const log = (line: string) => process.stdout.write(`[chaos ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);

describe(`chaos: the whole pipeline under faults (${cfg.events} records, seed ${cfg.seed})`, () => {
  const redis = new RedisServer();
  const target = new URL(registryUrl());
  const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 80) });
  let f: Fixture | undefined;
  let cluster: EngineCluster | undefined;
  let producer: PacedProducer | undefined;
  let driver: FaultDriver | undefined;

  afterAll(async () => {
    driver?.stop();
    await cluster?.stopAll().catch(() => undefined);
    await producer?.close();
    await proxy.stop().catch(() => undefined);
    await redis.remove().catch(() => undefined);
    const kafkaNote = await ensureKafkaUp().catch((err) => `could not check Kafka: ${(err as Error).message}`);
    if (kafkaNote) log(kafkaNote);
    if (f) {
      await deleteTopics(f.topics).catch((err) => log(`could not delete topics: ${(err as Error).message}`));
      const groupsLeft = await deleteGroups([f.name]);
      if (groupsLeft.length > 0) log(`could not delete consumer groups ${groupsLeft.join(', ')}`);
      fs.rmSync(f.dir, { recursive: true, force: true });
    }
  }, 5 * MIN);

  it('enriched, dead letters, SLI windows and alerts equal the ground truth', async () => {
    log(`seed ${cfg.seed} (CHAOS_SEED), ${cfg.events} records (CHAOS_EVENTS), ${cfg.partitions} partitions, production over ${cfg.produceMs / 1000} s`);
    await redis.start();
    const proxyPort = await proxy.start();
    const proxied = new URL(registryUrl());
    proxied.port = String(proxyPort);

    const name = uniqueName('chaos').toLowerCase().replace(/[^a-z0-9-]/g, '-');
    f = writeFixture({
      name,
      delivery: 'exactly-once',
      partitions: cfg.partitions,
      dedupe: '{ key: event_id, window: 24h, onConflict: deadletter }',
      enrich: [
        '- correlation: { field: correlation_id, header: traceparent, generate: true }',
        '- identity: { anonymousId: anonymous_id, userId: user_id }',
        '- session: { by: [user_id, anonymous_id], gap: 30m }',
        '- pseudonymize: { fields: [email, ip] }',
      ],
      extra: EXTRA,
    });
    const fixture = f;
    const { v1, v2 } = await registerVersions(fixture.subject);
    const unrelated = await new Registry(registryOptionsFromEnv()).register(`${fixture.subject}-unrelated`, JSON.stringify(UNRELATED_SCHEMA));
    await initTopologyRetrying(fixture.file);

    const t0 = Math.floor((Date.now() - cfg.events * STEP_MS - 3 * 60 * MIN) / MIN) * MIN;
    const stream: ChaosStream = buildStream({
      seed: cfg.seed, total: cfg.events, partitions: cfg.partitions, schemaIds: { v1, v2, unrelated }, t0,
      tickAfterEndMs: WINDOWS.allowedLatenessMs + 30_000,
    });
    log(`stream: ${stream.counts.unique} unique events, ${stream.counts.duplicates} exact duplicates (${stream.counts.crossCopies} on another partition), ${stream.counts.conflicts} conflicting re-sends, bad ${JSON.stringify(stream.counts.bad)}; event time ${new Date(t0).toISOString()} .. ${new Date(stream.end).toISOString()}`);

    // Every partition gets an event time before the stream starts, so no instance closes a
    // bucket before all partitions have reported (docs/slo.md, "Watermark").
    const clock = () => Date.now() - runStart;
    let runStart = Date.now();
    cluster = new EngineCluster(fixture.file, { REDIS_URL: redis.url, SCHEMA_REGISTRY_URL: proxied.toString(), TRACKLANE_PSEUDONYM_KEYS: PSEUDONYM_KEYS, LOG_LEVEL: 'info' }, clock);
    const engines = cluster;
    producer = new PacedProducer(fixture.raw, log);
    const paced = producer;
    try {
      await paced.send(stream.startTicks);
      engines.start('a');
      engines.start('b');
      engines.supervise();
      for (const slot of ['a', 'b']) if (!(await engines.waitRunning(slot, 2 * MIN))) throw new Error(`engine ${slot} did not start`);
      await waitInputCommitted(fixture.name, fixture.raw, 3 * MIN);

      runStart = Date.now();
      const plan = planFaults(cfg.seed, cfg.produceMs, cfg.faults);
      log(`fault plan: ${plan.map((p) => `${(p.at / 1000).toFixed(0)}s ${p.kind}`).join(', ')}`);
      driver = new FaultDriver({
        cluster: engines, redis, proxy, registryOutageMs: cfg.registryOutageMs, seed: cfg.seed, clock, log,
        progress: async () => {
          const n = await committedInput(fixture.name, fixture.raw);
          return `input committed ${n < 0 ? '? (no answer in 3 s)' : n}/${paced.sent + stream.startTicks.length}`;
        },
      });
      const faults = driver.run(plan);
      await paced.send(stream.records, cfg.produceMs);
      log(`produced ${paced.sent} records (${paced.resends} re-sent after failed sends)`);
      await faults;
      await paced.send(stream.endTicks);
      const producedAt = clock();
      await waitInputCommitted(fixture.name, fixture.raw, 15 * MIN);
      const drainedAt = clock();
      log(`all input committed ${((drainedAt - producedAt) / 1000).toFixed(1)} s after the last record was produced`);
      await engines.stopAll();

      // ---- ground truth, from the raw topic as it is --------------------------------------
      const raw: RawRecord[] = [];
      await readTopic(fixture.raw, { readCommitted: true, expected: paced.sent }, (m, partition) => {
        const key = m.key?.toString() ?? '';
        raw.push({ partition, offset: Number(m.offset), key, fp: fingerprint(key, m.value ?? null) });
      });
      const truth = computeTruth(raw, planIndex([...stream.records, ...stream.startTicks, ...stream.endTicks]), {
        topology: fixture.name, pseudonymSecret: SECRET, pseudonymKeyId: 'k1', sessionGapMs: 30 * MIN, t0, end: stream.end, slos: SLOS,
      });

      // ---- what a read_committed consumer sees ---------------------------------------------
      const seen: Observed = { enriched: new Map(), enrichedRecords: 0, deadLetters: new Map(), windows: new Map(), alerts: [], personalDataLeaks: [] };
      const leak = (where: string, text: string) => {
        const m = /[a-z0-9.]+@mail\.example\.org|198\.51\.100\.\d+/.exec(text);
        if (m) seen.personalDataLeaks.push(`${where}: ${m[0]}`);
      };
      seen.enrichedRecords = await readTopic(fixture.enriched, { readCommitted: true, expected: truth.enriched.size }, async (m, partition) => {
        const e = await decode<Enriched & { tracklane: { correlation_id: string; correlation_generated: boolean; event_time: number } }>({ ...m, topic: fixture.enriched, partition });
        const known = seen.enriched.get(e.event_id);
        if (known) {
          known.count++;
          return;
        }
        for (const field of ['email', 'ip'] as const) if (e[field] !== null && !String(e[field]).startsWith('k1:')) leak(`enriched ${e.event_id}.${field}`, String(e[field]));
        const t = e.tracklane;
        const o: ObservedEnriched = {
          count: 1, key: m.key?.toString() ?? '', partition: t.source.partition, offset: t.source.offset, userId: t.user_id, anonymousId: t.anonymous_id,
          sessionId: t.session_id, email: e.email, ip: e.ip, correlationId: t.correlation_id, correlationGenerated: t.correlation_generated, eventTime: t.event_time, keyId: t.pseudonym_key_id,
        };
        seen.enriched.set(e.event_id, o);
      });
      const uncommitted = await readTopic(fixture.enriched, { readCommitted: false, expected: seen.enrichedRecords }, () => undefined);
      await readTopic(fixture.dlq, { readCommitted: true, expected: truth.deadLetters.size }, async (m, partition) => {
        const d = await decode<DeadLetter>({ ...m, topic: fixture.dlq, partition });
        const at = `${d.source_partition}@${d.source_offset}`;
        seen.deadLetters.set(at, [...(seen.deadLetters.get(at) ?? []), d.reason]);
      });
      await readTopic(fixture.metrics, { readCommitted: true, expected: truth.windows.size }, async (m, partition) => {
        const w = await decode<SliWindow>({ ...m, topic: fixture.metrics, partition });
        const key = `${w.sli}|${Object.entries(w.labels).sort().map(([k, v]) => `${k}=${v}`).join('&')}|${w.window_start}`;
        const known = seen.windows.get(key);
        if (known) {
          known.count++;
          return;
        }
        const o: ObservedWindow = { count: 1, good: w.good, total: w.total, late: w.late_events, latency: w.latency, bounds: w.window_end - w.window_start === MIN && m.key?.toString() === key };
        seen.windows.set(key, o);
      });
      await readTopic(fixture.alerts, { readCommitted: true, expected: truth.transitions.size, idleMs: 5_000 }, async (m, partition) => {
        const a = await decode<Alert>({ ...m, topic: fixture.alerts, partition });
        const labels = Object.entries(a.labels).sort().map(([k, v]) => `${k}=${v}`).join('&');
        const at = a.status === 'firing' ? a.starts_at : a.ends_at!;
        seen.alerts.push({ key: `${a.slo}|${labels}|${a.tier}|${a.status}|${at}`, dedupKey: a.dedup_key, status: a.status, startsAt: a.starts_at, endsAt: a.ends_at });
      });
      for (const { instanceId, output } of engines.allLogs()) {
        leak(`log of ${instanceId}`, output);
        if (output.includes(SECRET)) seen.personalDataLeaks.push(`log of ${instanceId}: the pseudonym secret`);
      }

      // ---- report ---------------------------------------------------------------------------
      const generated = (partition: number, offset: number) => createHash('sha256').update(`${fixture.raw}|${partition}|${offset}`).digest('hex').slice(0, 32);
      const result = compare(truth, seen, generated);
      const events: FaultRecord[] = [
        ...driver.records,
        ...engines.unexpectedExits.map((x) => ({ at: x.at, kind: 'unexpected exit', detail: `${x.instanceId} exited (code ${x.code}, signal ${x.signal}); supervisor restarted it`, tookMs: 0 })),
      ].sort((a, b) => a.at - b.at);
      const byKind = new Map<string, number>();
      for (const e of events) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
      process.stdout.write(
        `\n=== chaos run: seed ${cfg.seed}, ${cfg.events} records produced as ${paced.sent} (+${2 * cfg.partitions} ticks), raw topic ${truth.rawCopies} records, ` +
          `${((Date.now() - started) / 1000).toFixed(0)} s in all (faults and production ${(producedAt / 1000).toFixed(0)} s, drain ${((drainedAt - producedAt) / 1000).toFixed(0)} s) ===\n` +
          `faults: ${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ')}; ${uncommitted - seen.enrichedRecords} enriched records of aborted transactions hidden from read_committed\n\n` +
          `${table(['time', 'kind', 'detail', 'took'], events.map((e) => [`${(e.at / 1000).toFixed(1)} s`, e.kind, e.detail, `${(e.tookMs / 1000).toFixed(1)} s`]))}\n\n` +
          `${table(['check', 'expected', 'got', 'diff'], result.rows.map((r) => [r.check, r.expected, r.got, r.diff]))}\n\n`,
      );
      for (const x of engines.unexpectedExits) if (x.code !== 2) log(`unexpected exit of ${x.instanceId} (code ${x.code}):\n${x.tail.slice(-600)}`);
      if (result.failed.some((r) => r.check.startsWith('alert'))) log(await alertDiagnostics(redis.url, fixture.name, truth, t0, SLOS));
      expect(driver.records.filter((r) => r.kind === 'kill-9' && r.detail.startsWith('killed')).length).toBeGreaterThanOrEqual(cfg.faults.kills);
      expect(result.failed).toEqual([]);
      // `tracklane run` may exit 2 when a dependency stays away past its retries (the broker
      // restart at start-up); any other exit is a crash.
      expect(engines.unexpectedExits.filter((x) => x.code !== 2).map((x) => `${x.instanceId}: code ${x.code}, signal ${x.signal}`)).toEqual([]);
    } catch (err) {
      for (const { instanceId, output } of engines.allLogs().slice(-4)) process.stderr.write(`--- ${instanceId} (tail)\n${output.slice(-4_000)}\n`);
      throw err;
    }
  }, cfg.testTimeoutMs);
});

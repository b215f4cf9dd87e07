import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { replayGroup } from '../../src/cli/replay';
import { keys } from '../../src/state/keys';
import { createRedis } from '../../src/state/redis';
import { ChildEngine } from '../helpers/child-engine';
import { CommittedWatch, waitForInputCommitted } from '../helpers/committed-watch';
import { initTopologyRetrying, produceStream, type StreamRecord } from '../helpers/duplicate-stream';
import { encodeV2, registerVersions, writeFixture, type Fixture, type Order } from '../helpers/engine-fixture';
import { deleteKeys } from '../helpers/events';
import { readDecoded, type DeadLetter, type Enriched } from '../helpers/outputs';
import { deleteTopics, kafka } from '../helpers/stack-env';

// Issue 16's "must show" for `tracklane replay --from-dlq`, against a topology with dedupe
// and consent: events dead-lettered after the dedupe stage (CONSENT_DENIED with
// `whenDenied: deadletter`) are replayed after the operator switched the topology to
// `whenDenied: strip` (a second topology file, same name, so the same dead-letter topic and
// dedupe keys). Every dead letter must reach the enriched topic exactly once: through a
// Ctrl-C mid-replay and a second run, through a run that re-sends everything again, and
// with 5 MB of dead letters. The engine and the CLI run as child processes (`npm run build`).

const MIN = 60_000;
const BIN = path.resolve(__dirname, '../../bin/tracklane.js');
const ENRICH = [
  '- correlation: { field: correlation_id, header: traceparent, generate: true }',
  '- consent: { field: consent_analytics, whenDenied: deadletter }',
  '- pseudonymize: { fields: [email, ip] }',
];

interface Setup {
  f: Fixture;
  /** The same topology with consent `whenDenied: strip`: what the operator replays with. */
  fixed: string;
  schemaId: number;
  engines: ChildEngine[];
}
const setups: Setup[] = [];

async function setup(o: { delivery: 'exactly-once' | 'at-least-once'; partitions: number; maxValueBytes?: number }): Promise<Setup> {
  const f = writeFixture({ delivery: o.delivery, partitions: o.partitions, dedupe: '{ key: event_id, window: 24h }', enrich: ENRICH, maxValueBytes: o.maxValueBytes });
  const fixed = path.join(f.dir, `${f.name}-fixed.yaml`);
  fs.writeFileSync(fixed, fs.readFileSync(f.file, 'utf8').replace('whenDenied: deadletter', 'whenDenied: strip'));
  const { v2 } = await registerVersions(f.subject);
  await initTopologyRetrying(f.file);
  const s: Setup = { f, fixed, schemaId: v2, engines: [] };
  setups.push(s);
  return s;
}

function orders(s: Setup, n: number, o: { denied: (i: number) => boolean; note?: string; partitions: number }): Array<StreamRecord & { order: Order }> {
  return Array.from({ length: n }, (_, i) => {
    const order: Order = {
      event_id: `${s.f.name}-${i}`, ts: Date.now(), type: 'checkout', status: 'ok', region: 'eu', duration_ms: 10,
      email: `user${i}@mail.example.org`, ip: '10.0.0.1', note: o.note ?? null, consent_analytics: !o.denied(i),
    };
    return { partition: i % o.partitions, key: order.event_id, value: encodeV2(s.schemaId, order), order };
  });
}

const ENGINE_ENV = { TRACKLANE_PSEUDONYM_KEYS: 'k1:replay-test-secret-0123456789' };

function startEngine(s: Setup, file: string, instance: string): ChildEngine {
  const engine = new ChildEngine(file, ENGINE_ENV, instance);
  engine.start();
  s.engines.push(engine);
  return engine;
}

/** `tracklane replay` as a child process; `onSpawn` gets it while it runs. */
function replay(args: string[], onSpawn?: (child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BIN, 'replay', '--from-dlq', ...args], { env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d.toString()));
  child.stderr!.on('data', (d) => (output += d.toString()));
  onSpawn?.(child);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

function replayedCount(output: string): number {
  const m = /^(?:would replay|replayed) (\d+) dead letter/m.exec(output);
  if (!m) throw new Error(`no summary in:\n${output}`);
  return Number(m[1]);
}

async function committedOffsets(groupId: string, topic: string): Promise<Record<number, string>> {
  const admin = kafka('tracklane-test-replay').admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Object.fromEntries(t.partitions.map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

/** Every input record committed by the engine, then the enriched topic as a new read_committed consumer sees it. */
async function enrichedIds(s: Setup, expected: number): Promise<{ ids: string[]; records: Array<{ value: Enriched; headers: Record<string, string> }> }> {
  await waitForInputCommitted(s.f.name, s.f.raw, 3 * MIN);
  const read = await readDecoded<Enriched>(s.f.enriched, { expected, readCommitted: true, timeoutMs: 2 * MIN, idleMs: 3_000 });
  const records = read.map((r) => ({
    value: r.value,
    headers: Object.fromEntries(Object.entries(r.message.headers ?? {}).map(([k, v]) => [k, String(v)])),
  }));
  return { ids: records.map((r) => r.value.event_id), records };
}

afterAll(async () => {
  for (const s of setups) for (const e of s.engines) await e.stop().catch(() => undefined);
  const redis = createRedis();
  for (const s of setups) await deleteKeys(redis, keys(s.f.name).prefix).catch(() => undefined);
  redis.disconnect();
  await deleteTopics(setups.flatMap((s) => s.f.topics));
  for (const s of setups) fs.rmSync(s.f.dir, { recursive: true, force: true });
}, 2 * MIN);

describe('replay --from-dlq with dedupe and consent', () => {
  it('Ctrl-C mid-replay, then a second run, then a run that re-sends everything: every dead letter reaches the enriched topic exactly once', async () => {
    const PARTITIONS = 3;
    const s = await setup({ delivery: 'exactly-once', partitions: PARTITIONS });
    const denied = (i: number) => i % 5 !== 0; // 120 of 150
    const input = orders(s, 150, { denied, partitions: PARTITIONS });
    const deniedIds = input.filter((r) => !r.order.consent_analytics).map((r) => r.key);
    await produceStream(s.f.raw, input);

    // 1. The engine as first deployed: consent denied -> dead letter (after dedupe stored the keys).
    const first = startEngine(s, s.f.file, 'before-fix');
    const letters = await CommittedWatch.start(s.f.dlq);
    try {
      await letters.waitFor(deniedIds.length, 3 * MIN, () => (first.exited ? 'engine exited' : undefined));
    } finally {
      await letters.stop();
    }
    await waitForInputCommitted(s.f.name, s.f.raw, 3 * MIN);
    await first.stop();

    // 2. The operator switches to whenDenied: strip and replays, slowly, and presses Ctrl-C
    //    once the source topic shows replayed records.
    startEngine(s, s.fixed, 'after-fix');
    const raw = await CommittedWatch.start(s.f.raw);
    let interrupted: { code: number | null; output: string };
    try {
      interrupted = await replay(['-t', s.fixed, '--rate', '5'], (child) => {
        void raw.waitFor(input.length + 1, 3 * MIN).then(() => child.kill('SIGINT'), () => child.kill('SIGKILL'));
      });
    } finally {
      await raw.stop();
    }
    expect({ code: interrupted.code, output: interrupted.output }).toEqual({ code: 130, output: expect.stringMatching(/interrupted after \d+ dead letters/) });
    const firstRun = replayedCount(interrupted.output);
    expect(firstRun).toBeGreaterThan(0);
    expect(firstRun).toBeLessThan(deniedIds.length);

    // 3. The same command again finishes the job; the group's offsets moved only past acknowledged sends.
    const second = await replay(['-t', s.fixed]);
    expect(second.code).toBe(0);
    expect(firstRun + replayedCount(second.output)).toBe(deniedIds.length);
    const group = replayGroup(s.f.name);
    const done = await committedOffsets(group, s.f.dlq);

    // 4. A run that re-sends every dead letter again (as if each chunk's commit had been lost
    //    to a crash right after its send): dedupe drops every copy.
    const admin = kafka('tracklane-test-replay').admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: group, topic: s.f.dlq, earliest: true });
    await admin.disconnect();
    const third = await replay(['-t', s.fixed]);
    expect(third.code).toBe(0);
    expect(replayedCount(third.output)).toBe(deniedIds.length);
    expect(await committedOffsets(group, s.f.dlq)).toEqual(done);

    // Every event exactly once: the granted ones from the first pass, the denied ones from a replay, stripped.
    const { ids, records } = await enrichedIds(s, input.length);
    expect(ids).toHaveLength(input.length);
    expect(new Set(ids)).toEqual(new Set(input.map((r) => r.key)));
    const replayedRecords = records.filter((r) => deniedIds.includes(r.value.event_id));
    expect(replayedRecords).toHaveLength(deniedIds.length);
    for (const r of replayedRecords) {
      expect(r.headers['tracklane-replayed-from']).toMatch(new RegExp(`^${s.f.dlq.replace(/\./g, '\\.')}:\\d+:\\d+$`));
      expect(r.headers['tracklane-replay-origin']).toMatch(new RegExp(`^${s.f.raw.replace(/\./g, '\\.')}:\\d+:\\d+$`));
      expect(r.value.email).toBeNull(); // stripped: consent still denies
    }
    // and nothing was dead-lettered again
    expect(await readDecoded<DeadLetter>(s.f.dlq, { expected: deniedIds.length, idleMs: 2_000, timeoutMs: 30_000 })).toHaveLength(deniedIds.length);
  }, 12 * MIN);

  it('5 MB of dead letters (60 of ~90 KB) replay in chunks under the size limit, each once', async () => {
    const PARTITIONS = 6;
    const s = await setup({ delivery: 'at-least-once', partitions: PARTITIONS, maxValueBytes: 200_000 });
    const input = orders(s, 60, { denied: () => true, note: 'x'.repeat(90_000), partitions: PARTITIONS });
    await produceStream(s.f.raw, input, 5);
    const first = startEngine(s, s.f.file, 'big-before');
    await waitForInputCommitted(s.f.name, s.f.raw, 3 * MIN);
    await first.stop();
    const letters = await readDecoded<DeadLetter>(s.f.dlq, { expected: 60, idleMs: 2_000 });
    expect(letters).toHaveLength(60);
    expect(letters.reduce((n, l) => n + l.message.value!.length, 0)).toBeGreaterThan(5_000_000);

    startEngine(s, s.fixed, 'big-after');
    const r = await replay(['-t', s.fixed]);
    expect({ code: r.code, output: r.output }).toEqual({ code: 0, output: expect.stringContaining('replayed 60 dead letters (CONSENT_DENIED 60)') });
    expect(r.output).toContain('failed 0');
    const { ids } = await enrichedIds(s, 60);
    expect(ids).toHaveLength(60);
    expect(new Set(ids)).toEqual(new Set(input.map((i) => i.key)));
  }, 10 * MIN);

  it('a replay that fails again is a new dead letter naming the replay; --dry-run and --reason count without sending; the replay of that one passes', async () => {
    const s = await setup({ delivery: 'at-least-once', partitions: 1 });
    const input = orders(s, 5, { denied: () => true, partitions: 1 });
    await produceStream(s.f.raw, input);
    const engine = startEngine(s, s.f.file, 'unfixed');
    await waitForInputCommitted(s.f.name, s.f.raw, 3 * MIN);

    // Replayed with the topology unchanged: consent still dead-letters them.
    const r1 = await replay(['-t', s.f.file]);
    expect(r1.code).toBe(0);
    expect(replayedCount(r1.output)).toBe(5);
    await waitForInputCommitted(s.f.name, s.f.raw, 3 * MIN);
    await engine.stop();
    const letters = await readDecoded<DeadLetter>(s.f.dlq, { expected: 10, idleMs: 2_000 });
    expect(letters).toHaveLength(10);
    const originals = new Map(letters.filter((l) => l.value.source_offset < 5).map((l) => [l.value.key!.toString(), l.message]));
    const again = letters.filter((l) => l.value.source_offset >= 5); // from the replays' own offsets in the source topic
    expect(again).toHaveLength(5);
    for (const l of again) {
      const original = originals.get(l.value.key!.toString())!;
      const from = `${s.f.dlq}:${original.partition}:${original.offset}`;
      expect(l.value.headers['tracklane-replayed-from'].toString()).toBe(from);
      expect(l.value.message).toBe(`consent_analytics denies consent (replay of dead letter ${from})`);
    }

    // Dry runs: counts only, nothing sent, no offset committed.
    const group = replayGroup(s.f.name);
    const before = await committedOffsets(group, s.f.dlq);
    const dry = await replay(['-t', s.fixed, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.output).toContain('would replay 5 dead letters (CONSENT_DENIED 5)');
    const dryReason = await replay(['-t', s.fixed, '--dry-run', '--reason', 'ENRICHMENT_FAILED']);
    expect(dryReason.output).toContain('would replay 0 dead letters');
    expect(dryReason.output).toContain('skipped 10 (other reason 10)');
    const dryFuture = await replay(['-t', s.fixed, '--dry-run', '--since', new Date(Date.now() + 3_600_000).toISOString()]);
    expect(dryFuture.output).toContain('skipped 5 (outside --since/--until 5)');
    expect(await committedOffsets(group, s.f.dlq)).toEqual(before);

    // Fixed: the second-generation dead letters pass (their origin is the first replay's offset).
    startEngine(s, s.fixed, 'fixed');
    const r2 = await replay(['-t', s.fixed, '--since', '1h']);
    expect(r2.code).toBe(0);
    expect(replayedCount(r2.output)).toBe(5);
    const { ids } = await enrichedIds(s, 5);
    expect(ids.sort()).toEqual(input.map((i) => i.key).sort());
  }, 10 * MIN);
});

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { deleteTopics } from '../helpers/stack-env';
import { writeFixture, type Fixture } from '../helpers/engine-fixture';

// The built CLI as a user runs it (npm test builds dist/ first).

const BIN = path.resolve(__dirname, '../../bin/tracklane.js');
const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

describe('tracklane check', () => {
  it('prints all three mistakes of a topology with line numbers and exits 1', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-'));
    const file = path.join(dir, 'three.yaml');
    const good = fs.readFileSync(path.resolve(__dirname, '../../topologies/minimal.yaml'), 'utf8');
    fs.copyFileSync(path.resolve(__dirname, '../../schemas/checkout-event.avsc'), path.join(dir, 'checkout-event.avsc'));
    const bad = good
      .replace(/partitions: \d+/, 'partitions: many')            // 1: wrong type
      .replace(/delivery: [a-z-]+/, 'delivery: twice')             // 2: not an option
      .replace(/objective: [0-9.]+/, 'objective: 1.5');            // 3: out of range
    expect(bad).not.toBe(good);
    fs.writeFileSync(file, bad.replace(/schema: .*\n/, 'schema: checkout-event.avsc\n'));
    const r = await run(['check', '-t', file]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith(file));
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+ `));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('tracklane init, produce and consume', () => {
  let f: Fixture;
  afterAll(async () => deleteTopics(f.topics));

  it('round-trips plain JSON lines through the registry, idempotently initialised', async () => {
    f = writeFixture();
    expect((await run(['init', '-t', f.file])).code).toBe(0);
    const again = await run(['init', '-t', f.file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('created topics: (none)');
    const lines = path.join(f.dir, 'events.jsonl');
    fs.writeFileSync(lines, [
      JSON.stringify({ event_id: 'a', ts: '2026-11-25T00:00:00Z', type: 'checkout', status: 'ok', email: 'x@y.example' }),
      JSON.stringify({ event_id: 'b', ts: 1795568400000, type: 'checkout', status: 'error' }),
    ].join('\n') + '\n');
    const produced = await run(['produce', '-t', f.file, '--source', 'web', '--file', lines]);
    expect(produced.code).toBe(0);
    const consumed = await run(['consume', '--topic', f.raw, '--from-beginning', '--max', '2', '--idle-timeout', '10s']);
    expect(consumed.code).toBe(0);
    const records = consumed.stdout.trim().split('\n').map((l) => JSON.parse(l)).sort((x, y) => x.key.localeCompare(y.key));
    expect(records.map((r) => [r.key, r.value.event_id, r.value.ts, r.value.email])).toEqual([
      ['a', 'a', Date.parse('2026-11-25T00:00:00Z'), 'x@y.example'],
      ['b', 'b', 1795568400000, null],
    ]);
    expect(Object.keys(records[0]).sort()).toEqual(['headers', 'key', 'offset', 'partition', 'timestamp', 'topic', 'value']);
    const raw = await run(['consume', '--topic', f.raw, '--from-beginning', '--max', '1', '--raw', '--idle-timeout', '10s']);
    expect(Buffer.from(JSON.parse(raw.stdout).value, 'base64')[0]).toBe(0); // magic byte
  });

  it('exits 1 naming the line of a bad JSON line, and 2 when Kafka is unreachable', async () => {
    const lines = path.join(f.dir, 'bad.jsonl');
    fs.writeFileSync(lines, '{"event_id": "a", "ts": 1, "type": "checkout", "status": "ok"}\n{"event_id": 5}\n');
    const bad = await run(['produce', '-t', f.file, '--source', 'web', '--file', lines]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/line 2/);
    const down = await run(['consume', '--topic', f.raw, '--max', '1'], { KAFKA_BROKERS: '127.0.0.1:1' });
    expect(down.code).toBe(2);
  });
});

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/child-engine';
import { deleteTopics, uniqueName } from '../helpers/stack-env';

// The main job as a newcomer runs it (`tracklane demo --exit`, the built CLI), on the shared
// stack. The demo starts its topology's topics and Redis state afresh, so each run gets a
// copy of topologies/checkout.yaml under a name and topics of its own.

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/tracklane.js');

function demoTopology(name: string): { file: string; topics: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-demo-'));
  fs.mkdirSync(path.join(dir, 'topologies'));
  fs.mkdirSync(path.join(dir, 'schemas'));
  fs.copyFileSync(path.join(ROOT, 'schemas/checkout-event.avsc'), path.join(dir, 'schemas/checkout-event.avsc'));
  const topics = { 'raw.checkout': `raw.${name}`, 'enriched.checkout': `enriched.${name}`, 'dlq.checkout': `dlq.${name}`, 'slo.metrics': `metrics.${name}`, 'slo.alerts': `alerts.${name}` };
  let text = fs.readFileSync(path.join(ROOT, 'topologies/checkout.yaml'), 'utf8').replace(/name: checkout, version/, `name: ${name}, version`);
  for (const [from, to] of Object.entries(topics)) text = text.replace(new RegExp(`topic: ${from.replace('.', '\\.')}\\b`), `topic: ${to}`);
  for (const to of Object.values(topics)) expect(text).toContain(`topic: ${to}`);
  const file = path.join(dir, 'topologies/demo.yaml');
  fs.writeFileSync(file, text);
  return { file, topics: Object.values(topics) };
}

function runDemo(file: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'demo', '--exit', '-t', file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d.toString()));
    child.stderr.on('data', (d) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
  });
}

/** Log lines at error or fatal in either format: JSON `"level":50|60`, pretty `ERROR`/`FATAL`. */
function errorLines(output: string): string[] {
  return output.split('\n').filter((line) => {
    if (line.startsWith('{')) {
      try {
        return Number((JSON.parse(line) as { level?: unknown }).level) >= 50;
      } catch {
        return false;
      }
    }
    return /\b(ERROR|FATAL)\b/.test(line);
  });
}

describe('tracklane demo --exit', () => {
  const topics: string[] = [];
  afterAll(async () => deleteTopics(topics));

  it.each(['json', 'pretty'])('prints its summary and the alert transitions, and no log line at error (LOG_FORMAT=%s)', async (format) => {
    const t = demoTopology(uniqueName('demo'));
    topics.push(...t.topics);
    // LOG_LEVEL unset (spawn drops undefined values): the demo's own choice of levels is under test.
    const r = await runDemo(t.file, { LOG_FORMAT: format, LOG_LEVEL: undefined, TRACKLANE_METRICS_PORT: String(await freePort()) });
    const output = r.stdout + r.stderr;
    process.stdout.write(`demo (LOG_FORMAT=${format}) took ${r.seconds.toFixed(1)} s\n`);
    expect({ code: r.code, errors: errorLines(output) }).toEqual({ code: 0, errors: [] });
    // The summary: counters, dead letters, SLIs, budget and alerts, all events accounted for.
    expect(r.stdout).toMatch(/^events\/s +\d+ \| consumed \d+ \| enriched \d+ \| duplicates \d+$/m);
    expect(r.stdout).toMatch(/^dead letters: DECODE_FAILED=\d+/m);
    expect(r.stdout).toMatch(/^error budget left: checkout-availability /m);
    // The incident in us-east pages and resolves; the transitions are printed in order.
    const alerts = r.stdout.slice(r.stdout.indexOf('== alerts'));
    expect(alerts).toMatch(/ firing +page checkout-availability 1h\/5m .*region=us-east/);
    expect(alerts).toMatch(/ resolved page checkout-availability 1h\/5m /);
    expect(alerts.indexOf(' firing   page')).toBeLessThan(alerts.indexOf(' resolved page'));
    // Only warnings a user should act on: no info-level chatter either.
    expect(output).not.toMatch(/"level":30|\bINFO\b/);
  });
});

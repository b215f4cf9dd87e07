// Kafka's own perf tools from the local stack's jars (org.apache.kafka.tools in kafka-tools),
// run against the same broker with the same record count: what the broker and a JVM client
// do on this machine, right now.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/package-root';

export interface ProducerPerf {
  records: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  avgLatencyMs: number;
  p50Ms: number;
  p99Ms: number;
  line: string;
}

export interface ConsumerPerf {
  records: number;
  /** Including the group join. */
  recordsPerSecond: number;
  /** Fetching only, the join left out: comparable to a rate measured from the first output. */
  fetchRecordsPerSecond: number;
  rebalanceMs: number;
  line: string;
}

export function kafkaLibs(env = process.env): string {
  return path.join(env.TRACKLANE_STACK_DIR ?? path.join(packageRoot(), '.stack'), 'kafka', 'libs');
}

function java(env = process.env): string {
  return env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : 'java';
}

async function runTool(mainClass: string, args: string[], timeoutMs: number): Promise<string> {
  const libs = kafkaLibs();
  if (!fs.existsSync(libs)) throw new Error(`no Kafka jars in ${path.relative(process.cwd(), libs) || libs}; run \`tracklane stack up\` first`);
  return new Promise((resolve, reject) => {
    const child = spawn(java(), ['-Xmx512m', '-cp', path.join(libs, '*'), mainClass, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${mainClass} exited with ${code}: ${(err || out).trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

/** kafka-producer-perf-test: `records` records of `recordSize` bytes, unthrottled, acks=all. */
export async function producerPerf(o: { brokers: string; topic: string; records: number; recordSize: number }): Promise<ProducerPerf> {
  const out = await runTool(
    'org.apache.kafka.tools.ProducerPerformance',
    ['--bootstrap-server', o.brokers, '--topic', o.topic, '--num-records', String(o.records), '--record-size', String(o.recordSize), '--throughput', '-1', '--command-property', 'acks=all'],
    600_000,
  );
  const line = out.trim().split('\n').reverse().find((l) => l.includes('records sent')) ?? '';
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th/.exec(line);
  if (!m) throw new Error(`ProducerPerformance printed no summary line: ${out.slice(-300)}`);
  return { records: +m[1], recordsPerSecond: +m[2], mbPerSecond: +m[3], avgLatencyMs: +m[4], p50Ms: +m[5], p99Ms: +m[6], line };
}

/** kafka-consumer-perf-test: read `records` records of `topic` from the beginning in a fresh group. */
export async function consumerPerf(o: { brokers: string; topic: string; records: number; group: string }): Promise<ConsumerPerf> {
  // --num-records is 4.x's name for the deprecated --messages.
  const out = await runTool(
    'org.apache.kafka.tools.ConsumerPerformance',
    ['--bootstrap-server', o.brokers, '--topic', o.topic, '--num-records', String(o.records), '--group', o.group, '--timeout', '30000'],
    600_000,
  );
  const lines = out.trim().split('\n');
  const h = lines.findIndex((l) => l.startsWith('start.time'));
  if (h < 0 || !lines[h + 1]) throw new Error(`ConsumerPerformance printed no result: ${out.slice(-300)}`);
  const names = lines[h].split(',').map((s) => s.trim());
  const values = lines[h + 1].split(',').map((s) => s.trim());
  const get = (name: string) => Number(values[names.indexOf(name)]);
  return {
    records: get('data.consumed.in.nMsg'),
    recordsPerSecond: get('nMsg.sec'),
    fetchRecordsPerSecond: get('fetch.nMsg.sec'),
    rebalanceMs: get('rebalance.time.ms'),
    line: lines[h + 1],
  };
}

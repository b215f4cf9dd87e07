// `tracklane stack up` on a running, busy stack is a no-op (issue 17, issue 16 item 4).
// The broker's log is grown past several MB since its start (the old readiness check piped
// that log into `grep -q` under pipefail, read SIGPIPE's 141 as "not ready" and killed the
// broker after the timeout), a producer keeps writing, and `up` runs again and again: every
// run exits 0 and the broker is the same process throughout, with every acknowledged record
// still in its topic.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Producer } from 'kafkajs';
import { PRODUCER_OPTIONS } from '../../src/sink/producer';
import { createTopics, deleteTopics, kafka, uniqueName } from '../helpers/stack-env';

const ROOT = path.resolve(__dirname, '../..');
const STACK_SH = path.join(ROOT, 'deploy/local/stack.sh');
const BIN = path.join(ROOT, 'bin/tracklane.js');
// Same default as stack.sh: <repo>/.stack unless TRACKLANE_STACK_DIR moves it.
const STACK_DIR = process.env.TRACKLANE_STACK_DIR ?? path.join(ROOT, '.stack');
const KAFKA_LOG = path.join(STACK_DIR, 'logs/kafka.log');
const KAFKA_PID = path.join(STACK_DIR, 'run/kafka.pid');
const KAFKA_LOG_OFFSET = path.join(STACK_DIR, 'run/kafka.logoffset');

const GROWN_SINCE_START = 6 << 20; // several pipe buffers (64 KiB) many times over
const UP_RUNS = 4;

// TRACKLANE_WITH_STACK: these `up`s must not make the stack permanent (an explicit `up`
// would, and with-stack.sh would then leave a CI stack running). A short timeout bounds a
// failing run: the fixed script then exits 2 instead of waiting two minutes.
const UP_ENV = { ...process.env, TRACKLANE_WITH_STACK: '1', TRACKLANE_STACK_TIMEOUT: '30' };

interface Run {
  code: number;
  output: string;
}

function run(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, env: UP_ENV, timeout: 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** The broker stack.sh started: its pid and kernel start time (a reused pid would differ). */
function brokerIdentity(): { pid: number; startTime: string } {
  const pid = Number(fs.readFileSync(KAFKA_PID, 'utf8').trim());
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // field 22 (starttime), counted after the command name's closing parenthesis
  const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return { pid, startTime };
}

/** Appends whole log-like lines until the log holds `bytes` written since the broker's start. */
function growKafkaLog(bytes: number): number {
  const sinceStart = () => fs.statSync(KAFKA_LOG).size - Number(fs.readFileSync(KAFKA_LOG_OFFSET, 'utf8').trim() || 0);
  let appended = 0;
  let i = 0;
  while (sinceStart() < bytes) {
    const lines: string[] = [];
    for (let n = 0; n < 500; n++, i++) {
      lines.push(`[${new Date().toISOString()}] INFO [stack-up-idempotent test] filler line ${i} so the log outgrows a pipe buffer (tracklane test)\n`);
    }
    const chunk = lines.join('');
    fs.appendFileSync(KAFKA_LOG, chunk); // O_APPEND, whole lines: never splits a broker line
    appended += chunk.length;
  }
  return appended;
}

/** A steady producer until stop(); resolves to the number of acknowledged records. */
function steadyProducer(producer: Producer, topic: string) {
  let stopping = false;
  let acked = 0;
  const value = 'x'.repeat(200);
  const done = (async () => {
    let batch = 0;
    while (!stopping) {
      const messages = Array.from({ length: 50 }, (_, k) => ({ key: `k${k}`, value: `${batch}-${k}-${value}` }));
      await producer.send({ topic, acks: -1, messages });
      acked += messages.length;
      batch++;
    }
    return acked;
  })();
  done.catch(() => undefined); // a failed send surfaces through stop(), not as an unhandled rejection
  return {
    acked: () => acked,
    stop: () => {
      stopping = true;
      return done;
    },
  };
}

describe('stack up on a running, busy stack', () => {
  const topic = uniqueName('it-stack-up-idempotent');

  afterAll(async () => {
    await deleteTopics([topic]);
  });

  test('returns 0 every time and never stops or restarts the broker, whose log has grown past several MB', async () => {
    const before = brokerIdentity();
    growKafkaLog(GROWN_SINCE_START);
    expect(fs.statSync(KAFKA_LOG).size - Number(fs.readFileSync(KAFKA_LOG_OFFSET, 'utf8'))).toBeGreaterThanOrEqual(GROWN_SINCE_START);

    await createTopics([topic], 3);
    const producer = kafka('tracklane-test-stack-up').producer(PRODUCER_OPTIONS);
    await producer.connect();
    const load = steadyProducer(producer, topic);
    let acked: number;
    const runs: Run[] = [];
    try {
      while (load.acked() === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      for (let i = 0; i < UP_RUNS - 1; i++) runs.push(await run('bash', [STACK_SH, 'up']));
      runs.push(await run(process.execPath, [BIN, 'stack', 'up'])); // the CLI, as a user runs it
    } finally {
      acked = await load.stop();
      await producer.disconnect();
    }

    for (const r of runs) {
      expect(r).toEqual(expect.objectContaining({ code: 0 }));
      expect(r.output).toContain(`kafka: already running (pid ${before.pid})`);
      expect(r.output).toContain('kafka: ready on ');
      expect(r.output).not.toMatch(/kafka: (stopping|starting)/);
    }
    expect(brokerIdentity()).toEqual(before);

    // the broker kept serving: every acknowledged record is in the topic
    const admin = kafka('tracklane-test-admin').admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(acked);
    } finally {
      await admin.disconnect();
    }
    expect(acked).toBeGreaterThan(0);
  });
});

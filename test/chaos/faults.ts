import { execFile } from 'node:child_process';
import path from 'node:path';
import type { RedisServer } from '../helpers/redis-server';
import type { TcpProxy } from '../helpers/tcp-proxy';
import type { EngineCluster } from './engines';
import { prng } from './stream';

// The fault driver: a seeded schedule of faults over the production window, executed one
// after the other (a fault that is still running delays the next one), each recorded with
// when it really happened and what it did.

export type FaultKind = 'kill-9' | 'join' | 'leave' | 'redis-restart' | 'kafka-restart' | 'registry-outage';

export interface FaultPlan { at: number; kind: FaultKind }
export interface FaultRecord { at: number; kind: string; detail: string; tookMs: number }

export interface FaultCounts { kills: number; joins: number; redisRestarts: number; kafkaRestarts: number; registryOutages: number }

const ROOT = path.resolve(__dirname, '../..');

/**
 * Times uniform in [8 %, 88 %] of the window, kinds shuffled; each join precedes its leave.
 * Kills are at least 10 s apart from any other fault so each one is a separate event.
 */
export function planFaults(seed: number, windowMs: number, c: FaultCounts): FaultPlan[] {
  const random = prng(seed ^ 0x5eed);
  const kinds: FaultKind[] = [
    ...Array<FaultKind>(c.kills).fill('kill-9'),
    ...Array<FaultKind>(c.redisRestarts).fill('redis-restart'),
    ...Array<FaultKind>(c.kafkaRestarts).fill('kafka-restart'),
    ...Array<FaultKind>(c.registryOutages).fill('registry-outage'),
  ];
  const times = (n: number) => Array.from({ length: n }, () => windowMs * (0.08 + 0.8 * random()));
  const plan: FaultPlan[] = [];
  for (const at of times(kinds.length)) plan.push({ at, kind: kinds.splice(Math.floor(random() * kinds.length), 1)[0] });
  for (let j = 0; j < c.joins; j++) {
    const [a, b] = times(2).sort((x, y) => x - y);
    plan.push({ at: a, kind: 'join' }, { at: Math.max(b, a + 20_000), kind: 'leave' });
  }
  plan.sort((x, y) => x.at - y.at);
  // Keep joins and leaves paired in time order (join, leave, join, leave).
  let open = 0;
  for (const f of plan) {
    if (f.kind === 'join' || f.kind === 'leave') {
      f.kind = open === 0 ? 'join' : 'leave';
      open = 1 - open;
    }
  }
  return plan;
}

export interface FaultContext {
  cluster: EngineCluster;
  redis: RedisServer;
  proxy: TcpProxy;
  registryOutageMs: number;
  seed: number;
  /** ms since the run started. */
  clock(): number;
  /** A short progress note for the fault table (e.g. input committed so far). */
  progress(): Promise<string>;
  log(line: string): void;
}

function stackSh(...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('bash', [path.join(ROOT, 'deploy/local/stack.sh'), ...args], { cwd: ROOT, timeout: 300_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

export class FaultDriver {
  readonly records: FaultRecord[] = [];
  private readonly random: () => number;
  private stopped = false;

  constructor(private readonly c: FaultContext) {
    this.random = prng(c.seed ^ 0xfa17);
  }

  stop(): void {
    this.stopped = true;
  }

  async run(plan: FaultPlan[]): Promise<void> {
    for (const f of plan) {
      while (!this.stopped && this.c.clock() < f.at) await new Promise((r) => setTimeout(r, 100));
      if (this.stopped) return;
      const started = this.c.clock();
      const before = await this.c.progress();
      const detail = await this.inject(f.kind);
      const record = { at: started, kind: f.kind, detail: `${detail}; ${before}`, tookMs: this.c.clock() - started };
      this.records.push(record);
      this.c.log(`fault at ${(started / 1000).toFixed(1)} s: ${f.kind} (${record.detail}), ${record.tookMs} ms`);
    }
  }

  private async inject(kind: FaultKind): Promise<string> {
    const { cluster } = this.c;
    switch (kind) {
      case 'kill-9': {
        let live = cluster.live;
        for (let waited = 0; live.length === 0 && waited < 60_000; waited += 250) {
          await new Promise((r) => setTimeout(r, 250));
          live = cluster.live;
        }
        if (live.length === 0) return 'no engine alive to kill (all restarting)';
        const slot = live[Math.floor(this.random() * live.length)];
        // A kill is meant to hit a working instance: give a fresh one time to join first.
        const running = await cluster.waitRunning(slot, 60_000);
        const victim = await cluster.kill9(slot);
        const next = cluster.start(slot);
        return `killed ${victim}${running ? '' : ' (before it was running)'}, started ${next}`;
      }
      case 'join': {
        const id = cluster.start('c');
        const running = await cluster.waitRunning('c', 60_000);
        return `${id} joined the group${running ? '' : ' (not running after 60 s)'}`;
      }
      case 'leave': {
        const id = cluster.instanceOf('c');
        if (!id) return 'nothing to leave';
        const how = await cluster.stop('c');
        return `${id} left (SIGTERM: ${how})`;
      }
      case 'redis-restart': {
        const keys = await this.c.redis.dbsize().catch(() => -1);
        await this.c.redis.stop();
        const downMs = 2_000 + Math.floor(this.random() * 4_000);
        await new Promise((r) => setTimeout(r, downMs));
        await this.c.redis.start();
        const after = await this.c.redis.dbsize().catch(() => -1);
        return `SIGTERM, down ${downMs} ms, AOF kept ${after}/${keys} keys`;
      }
      case 'kafka-restart': {
        const { code, output } = await stackSh('restart', 'kafka');
        if (code !== 0) throw new Error(`stack.sh restart kafka failed (${code}):\n${output.slice(-2_000)}`);
        return 'stack.sh restart kafka (clean shutdown, same log dir)';
      }
      case 'registry-outage': {
        await this.c.proxy.stop();
        await new Promise((r) => setTimeout(r, this.c.registryOutageMs));
        await this.c.proxy.start();
        return `proxy refused connections for ${this.c.registryOutageMs / 1000} s`;
      }
    }
  }
}

/** After the run: make sure the shared broker is up again for everyone else. */
export async function ensureKafkaUp(): Promise<string | undefined> {
  const status = await stackSh('status', 'kafka');
  if (status.code === 0) return undefined;
  const started = await stackSh('start', 'kafka');
  return `kafka was down after the run; stack.sh start kafka: exit ${started.code}`;
}

import type { ChildProcess } from 'node:child_process';
import { ChildEngine } from '../helpers/child-engine';

// The engine instances of a chaos run, by slot ("a", "b", "c"), each a child process that
// can be killed with -9. A supervisor restarts a process that ended without being told to
// (as Kubernetes would) and reports it: `tracklane run` exits 2 when a dependency stays
// unreachable past its retries, which a broker restart can cause at start-up.

interface Slot {
  engine: ChildEngine;
  instanceId: string;
  /** Set while the harness itself ends the process (kill -9, SIGTERM). */
  ending: boolean;
}

export interface UnexpectedExit { at: number; instanceId: string; code: number | null; signal: NodeJS.Signals | null; tail: string }

function childOf(engine: ChildEngine): ChildProcess | undefined {
  return (engine as unknown as { child?: ChildProcess }).child;
}

function hasExited(engine: ChildEngine): boolean {
  const proc = childOf(engine);
  return !proc || proc.exitCode !== null || proc.signalCode !== null;
}

function waitExit(engine: ChildEngine): Promise<void> {
  const proc = childOf(engine);
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

export class EngineCluster {
  private readonly slots = new Map<string, Slot>();
  private readonly generation = new Map<string, number>();
  /** Output of every process that ended, for the PII scan and failure messages. */
  readonly finishedLogs: Array<{ instanceId: string; output: string }> = [];
  readonly unexpectedExits: UnexpectedExit[] = [];
  private timer?: NodeJS.Timeout;
  private stopping = false;
  /** Slots whose process ended on its own, with when to start it again. */
  private readonly pending = new Map<string, number>();

  constructor(private readonly topologyFile: string, private readonly env: NodeJS.ProcessEnv, private readonly clock: () => number) {}

  get live(): string[] {
    return [...this.slots.keys()].sort();
  }

  instanceOf(slot: string): string | undefined {
    return this.slots.get(slot)?.instanceId;
  }

  start(slot: string): string {
    if (this.slots.has(slot)) throw new Error(`slot ${slot} already runs ${this.slots.get(slot)!.instanceId}`);
    const n = (this.generation.get(slot) ?? 0) + 1;
    this.generation.set(slot, n);
    const instanceId = `chaos-${slot}${n}`;
    const engine = new ChildEngine(this.topologyFile, this.env, instanceId);
    engine.start();
    this.slots.set(slot, { engine, instanceId, ending: false });
    return instanceId;
  }

  /** Resolves once the slot's engine logged "engine running" (false on timeout or exit). */
  async waitRunning(slot: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.slots.get(slot);
      if (!s) return false;
      if (s.engine.output.includes('engine running')) return true;
      if (hasExited(s.engine) || Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** kill -9 and wait until the process is gone. */
  async kill9(slot: string): Promise<string> {
    const s = this.slots.get(slot);
    if (!s) throw new Error(`no engine in slot ${slot}`);
    s.ending = true;
    const gone = waitExit(s.engine);
    s.engine.kill9();
    await gone;
    this.retire(slot, s);
    return s.instanceId;
  }

  /** SIGTERM (drain and leave the group); kill -9 after graceMs. Returns how it ended. */
  async stop(slot: string, graceMs = 45_000): Promise<string> {
    this.pending.delete(slot);
    const s = this.slots.get(slot);
    if (!s) return 'not running';
    s.ending = true;
    const stopped = s.engine.stop().then((code) => `exit ${code}`);
    const timeout = new Promise<string>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    let how = await Promise.race([stopped, timeout]);
    if (how === 'timeout') {
      const gone = waitExit(s.engine);
      s.engine.kill9();
      await gone;
      how = `no exit within ${graceMs} ms of SIGTERM: killed`;
    }
    this.retire(slot, s);
    return how;
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    this.stopSupervising();
    await Promise.all(this.live.map((slot) => this.stop(slot, 30_000).catch(() => undefined)));
  }

  /** Restarts processes that ended on their own, with a growing pause when one keeps failing. */
  supervise(): void {
    const pending = this.pending;
    this.timer = setInterval(() => {
      for (const [slot, s] of this.slots) {
        if (s.ending || !hasExited(s.engine)) continue;
        const proc = childOf(s.engine);
        this.unexpectedExits.push({ at: this.clock(), instanceId: s.instanceId, code: proc?.exitCode ?? null, signal: proc?.signalCode ?? null, tail: s.engine.output.slice(-3_000) });
        this.retire(slot, s);
        const recent = this.unexpectedExits.filter((x) => x.instanceId.startsWith(`chaos-${slot}`) && this.clock() - x.at < 60_000).length;
        pending.set(slot, Date.now() + Math.min(10_000, 1_000 * 2 ** Math.min(recent - 1, 4)));
      }
      for (const [slot, at] of pending) {
        if (Date.now() < at) continue;
        pending.delete(slot);
        if (!this.slots.has(slot) && !this.stopping) this.start(slot);
      }
    }, 250);
  }

  stopSupervising(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Every process's output so far (finished and live). */
  allLogs(): Array<{ instanceId: string; output: string }> {
    return [...this.finishedLogs, ...[...this.slots.values()].map((s) => ({ instanceId: s.instanceId, output: s.engine.output }))];
  }

  private retire(slot: string, s: Slot): void {
    this.finishedLogs.push({ instanceId: s.instanceId, output: s.engine.output });
    if (this.slots.get(slot) === s) this.slots.delete(slot);
  }
}

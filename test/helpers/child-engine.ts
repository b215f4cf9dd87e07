import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const BIN = path.resolve(__dirname, '../../bin/tracklane.js');

/** The engine as a separate process (built by `npm run build`), so a test can kill -9 it. */
export class ChildEngine {
  private child?: ChildProcess;
  output = '';
  /** Every exit of the process, with its code or signal, in order. */
  readonly exits: Array<{ code: number | null; signal: NodeJS.Signals | null }> = [];

  /** `metricsPort` 0 (the default) turns the HTTP server off; see freePort(). */
  constructor(
    private readonly topologyFile: string,
    private readonly env: NodeJS.ProcessEnv = {},
    private readonly instanceId = 'child',
    private readonly metricsPort = 0,
  ) {}

  start(): void {
    this.child = spawn(process.execPath, [BIN, 'run', '-t', this.topologyFile, '--metrics-port', String(this.metricsPort), '--instance-id', this.instanceId], {
      env: { ...process.env, LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d) => (this.output += d.toString()));
    this.child.on('exit', (code, signal) => this.exits.push({ code, signal }));
  }

  /** Process id of the running child (undefined before start). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True once the process has ended, by itself or killed. */
  get exited(): boolean {
    return this.exits.length > 0;
  }

  /** Resolves once the output contains `pattern`; rejects if the process exits first or after timeoutMs. */
  async waitForOutput(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (this.exited) throw new Error(`engine exited (${JSON.stringify(this.exits[0])}) before printing ${pattern}:\n${this.output.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`engine did not print ${pattern} within ${timeoutMs} ms:\n${this.output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill9(): void {
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    return new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });
  }
}

/** A TCP port that was free a moment ago (for a child's --metrics-port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

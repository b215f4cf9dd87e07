import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(__dirname, '../../bin/tracklane.js');

/** The engine as a separate process (built by `npm run build`), so a test can kill -9 it. */
export class ChildEngine {
  private child?: ChildProcess;
  output = '';

  constructor(private readonly topologyFile: string, private readonly env: NodeJS.ProcessEnv = {}, private readonly instanceId = 'child') {}

  start(): void {
    this.child = spawn(process.execPath, [BIN, 'run', '-t', this.topologyFile, '--metrics-port', '0', '--instance-id', this.instanceId], {
      env: { ...process.env, LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d) => (this.output += d.toString()));
  }

  kill9(): void {
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    return new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });
  }
}

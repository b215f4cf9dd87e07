import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './child-engine';

// A private redis-server for tests that restart Redis: the shared one on :6379 keeps nothing
// on disk and other suites use it. This one persists every write to an append-only file
// (fsync before each reply), so a restart on the same port and folder keeps all state.

/** One round trip of the inline protocol: resolves with the first reply line. */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(2_000, () => socket.destroy(new Error('redis: no reply')));
    socket.once('error', reject);
    // A close before a full line (server going down) must not leave the caller waiting.
    socket.once('close', () => reject(new Error('redis: connection closed')));
    socket.on('data', (d) => {
      data += d.toString();
      if (data.includes('\r\n')) {
        resolve(data.slice(0, data.indexOf('\r\n')));
        socket.end();
      }
    });
    socket.write(`${line}\r\n`);
  });
}

export class RedisServer {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-redis-'));
  port = 0;
  /** Server log of every start, for failure messages. */
  log = '';
  private proc?: ChildProcess;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (or starts again, same port and folder) and waits until it answers PING, AOF loaded. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.proc) throw new Error('redis-server already running');
    for (let attempt = 0; ; attempt++) {
      const firstStart = this.port === 0;
      if (firstStart) this.port = await freePort();
      const proc = spawn('redis-server', [
        '--port', String(this.port), '--bind', '127.0.0.1', '--daemonize', 'no',
        '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc = proc;
      proc.stdout!.on('data', (d) => (this.log += d.toString()));
      proc.stderr!.on('data', (d) => (this.log += d.toString()));
      const exited = new Promise<'exited'>((resolve) => proc.once('exit', () => resolve('exited')));
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // LOADING while the AOF is replayed, a refused connection before the port is open.
        const reply = await command(this.port, 'PING').catch(() => '');
        if (reply === '+PONG') return;
        if ((await Promise.race([exited, new Promise((r) => setTimeout(r, 100))])) === 'exited') break;
        if (Date.now() > deadline) throw new Error(`redis-server on :${this.port} did not answer within ${timeoutMs} ms:\n${this.log.slice(-2_000)}`);
      }
      this.proc = undefined;
      // Someone took the port between freePort() and the bind: pick another (first start only).
      if (!firstStart || attempt >= 3) throw new Error(`redis-server on :${this.port} exited at start:\n${this.log.slice(-2_000)}`);
      this.port = 0;
    }
  }

  /** SIGTERM: Redis fsyncs the AOF and exits (what `redis-cli shutdown` does, no RDB with save ""). */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }

  async dbsize(): Promise<number> {
    const reply = await command(this.port, 'DBSIZE');
    return Number(reply.replace(/^:/, ''));
  }

  /** Stops the server and deletes its folder. */
  async remove(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './child-engine';

// What the alert-forwarding suite talks to: a real Alertmanager (Debian's package, installed
// by deploy/local/ensure-alertmanager.sh when missing) on a free loopback port, a local HTTP
// receiver that records every POST, and the forwarder as a child process of the built CLI.

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/tracklane.js');

export async function ensureAlertmanager(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [path.join(ROOT, 'deploy/local/ensure-alertmanager.sh')], { timeout: 15 * 60_000 });
  return stdout.trim().split('\n').pop()!;
}

export class Alertmanager {
  private child?: ChildProcess;
  private dir = '';
  url = '';
  output = '';

  constructor(private readonly binary: string) {}

  async start(): Promise<void> {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-am-'));
    const config = path.join(this.dir, 'alertmanager.yml');
    fs.writeFileSync(config, "route: { receiver: blackhole, group_wait: 1s }\nreceivers: [ { name: blackhole } ]\n");
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    // --cluster.listen-address= turns gossip off: its default (:9094) is taken on this machine.
    this.child = spawn(this.binary, [
      `--config.file=${config}`, `--storage.path=${path.join(this.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`alertmanager exited:\n${this.output}`);
      const ok = await fetch(`${this.url}/-/ready`).then((r) => r.ok, () => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`alertmanager not ready within 30 s:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** GET /api/v2/alerts: the alerts Alertmanager reports (active ones by default). */
  async alerts(): Promise<Array<{ labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string; status: { state: string } }>> {
    const res = await fetch(`${this.url}/api/v2/alerts`);
    if (!res.ok) throw new Error(`GET /api/v2/alerts answered ${res.status}`);
    return res.json() as Promise<never>;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ReceivedPost {
  path: string;
  delivery: string | undefined;
  body: unknown;
  /** The receiver answered 2xx (only these count as accepted). */
  accepted: boolean;
}

/**
 * A local receiver. `answer` decides per POST: a status code, or 'hold' (never answered: the
 * request stays open until the client goes away, as if the receiver hung).
 */
export class RecordingReceiver {
  readonly posts: ReceivedPost[] = [];
  answer: (post: ReceivedPost, index: number) => number | 'hold' = () => 200;
  private server?: http.Server;
  private readonly sockets = new Set<net.Socket>();
  url = '';

  /** Listens on `port` (a free one by default). */
  async start(port?: number): Promise<void> {
    this.server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (d) => (text += d));
      req.on('end', () => {
        const post: ReceivedPost = { path: req.url ?? '', delivery: req.headers['x-tracklane-delivery'] as string | undefined, body: JSON.parse(text || 'null'), accepted: false };
        const index = this.posts.push(post) - 1;
        const status = this.answer(post, index);
        if (status === 'hold') return;
        post.accepted = status >= 200 && status < 300;
        res.writeHead(status, { 'content-type': 'application/json' }).end(post.accepted ? '{"status":"success"}' : '{"status":"unavailable"}');
      });
    });
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    const listenOn = port ?? (await freePort());
    await new Promise<void>((r) => this.server!.listen(listenOn, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${listenOn}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** `tracklane alerts forward` as a child process (so a test can SIGKILL it). */
export class ChildForwarder {
  private child?: ChildProcess;
  output = '';
  readonly exits: Array<{ code: number | null; signal: NodeJS.Signals | null }> = [];

  constructor(private readonly args: string[], private readonly env: NodeJS.ProcessEnv = {}) {}

  start(): void {
    this.output = '';
    this.child = spawn(process.execPath, [BIN, 'alerts', 'forward', ...this.args], {
      env: { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    this.child.on('exit', (code, signal) => this.exits.push({ code, signal }));
  }

  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    return new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });
  }

  /** Resolves when the process exits by itself; its exit code. */
  waitForExit(): Promise<number | null> {
    const child = this.child!;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }
}

/** Polls `check` until it returns a value other than undefined; fails with `what` after timeoutMs. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${context().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

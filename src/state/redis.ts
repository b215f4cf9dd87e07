import { readdirSync, readFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { Redis, Cluster, type RedisOptions, type ClusterOptions } from 'ioredis';
import { CredentialsRefusedError, InfrastructureError, UserError } from '../errors';
import { backoffDelay } from '../errors/retry';
import { isRedisConnectionError } from '../errors/transient';
import { RetryTracker } from '../observability/client-log';

export { isRedisConnectionError };
import type { Logger } from '../observability/logger';

// The one place where Tracklane talks to ioredis directly: client construction, the Lua
// scripts, and the mapping of ioredis's connection failures onto InfrastructureError.

import { packageRoot } from '../package-root';

export type RedisClient = Redis | Cluster;
export type ScriptArg = string | number | Buffer;

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Failure policy (why these options): Redis state sits on the hot path of every batch. When
 * Redis is down the consume loop must notice at once, pause the partitions and retry the
 * whole batch with backoff (retry.ts) — every script is idempotent for a re-run batch. So:
 * - `enableOfflineQueue: false`: a command issued while disconnected rejects immediately
 *   ("Stream isn't writeable") instead of waiting in an unbounded in-memory queue.
 * - `maxRetriesPerRequest: 0`: commands in flight when the socket drops reject on the first
 *   close instead of being re-sent behind our back; the batch-level retry re-sends them.
 * - `commandTimeout`: a hung server (not closed, just silent) also rejects, after 10 s.
 * - the reconnect strategy never gives up (jittered backoff, capped at 2 s) so the client
 *   is ready again soon after Redis is.
 * Consequence: the first command may reject until the initial connect is done; callers go
 * through withRetry (or call waitUntilReady once at start-up).
 */
const COMMAND_TIMEOUT_MS = 10_000;

function reconnectDelay(times: number): number {
  return backoffDelay(times, 50, 2000);
}

interface ParsedUrl {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
}

function parseRedisUrl(raw: string): ParsedUrl {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `redis://${text}`);
  } catch {
    // The entry is not echoed: it may hold a password.
    throw new UserError('REDIS_URL holds an entry that is not a URL: write redis://host:port or rediss://host:port');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UserError(`REDIS_URL must use redis:// or rediss://, got ${url.protocol}//`);
  }
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined;
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    tls: url.protocol === 'rediss:',
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: db !== undefined && Number.isInteger(db) ? db : undefined,
  };
}

export interface CreateRedisOptions {
  /** Defaults to env REDIS_URL, then redis://127.0.0.1:6379. A comma-separated list means Redis Cluster. */
  url?: string;
  env?: NodeJS.ProcessEnv;
  log?: Pick<Logger, 'debug' | 'warn'>;
  connectionName?: string;
}

/**
 * Creates the client from REDIS_URL. Authentication: the URL's user/password, else the env
 * REDIS_USERNAME / REDIS_PASSWORD. TLS: `rediss://`; REDIS_TLS_CA_FILE adds a CA bundle.
 */
export function createRedis(opts: CreateRedisOptions = {}): RedisClient {
  const env = opts.env ?? process.env;
  const urls = (opts.url ?? env.REDIS_URL ?? DEFAULT_REDIS_URL).split(',').map((s) => s.trim()).filter(Boolean);
  if (urls.length === 0) urls.push(DEFAULT_REDIS_URL);
  const nodes = urls.map(parseRedisUrl);
  const first = nodes[0];
  const tls = nodes.some((n) => n.tls)
    ? { ...(env.REDIS_TLS_CA_FILE ? { ca: readFileSync(env.REDIS_TLS_CA_FILE) } : {}) }
    : undefined;
  const common = {
    username: first.username ?? env.REDIS_USERNAME ?? undefined,
    password: first.password ?? env.REDIS_PASSWORD ?? undefined,
    tls,
    connectionName: opts.connectionName ?? 'tracklane',
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 5000,
  } satisfies Partial<RedisOptions>;

  let client: RedisClient;
  if (nodes.length === 1) {
    client = new Redis({
      ...common,
      host: first.host,
      port: first.port,
      db: first.db,
      enableOfflineQueue: false,
      retryStrategy: reconnectDelay,
    });
  } else {
    const clusterOptions: ClusterOptions = {
      enableOfflineQueue: false,
      clusterRetryStrategy: reconnectDelay,
      redisOptions: common,
    };
    client = new Cluster(nodes.map((n) => ({ host: n.host, port: n.port })), clusterOptions);
  }
  // Without a listener ioredis prints every failed reconnect to stderr. A reconnect is
  // routine (Redis restarted, a failover): debug and counted; warn once the outage outlasts
  // the bound (client-log.ts). The client never gives up, so nothing here is an error.
  const tracker = opts.log ? new RetryTracker('redis', opts.log) : undefined;
  client.on('error', (err: Error) => {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code && /^[A-Z][A-Z_]{1,30}$/.test(code) ? code : 'other';
    tracker?.retrying(reason, { err: { message: err.message, code } }, 'redis connection error');
  });
  client.on('ready', () => tracker?.recovered());
  return client;
}

/**
 * Resolves once the client is connected (standalone: status ready). Rejects at once when
 * Redis refuses the credentials (ioredis would reconnect and retry them forever), else after
 * timeoutMs with the last connection error (a TLS failure, a refused port). Only the error
 * message is used: ioredis attaches the failed command, AUTH's password included, to it.
 */
export async function waitUntilReady(client: RedisClient, timeoutMs = 30_000): Promise<void> {
  if (client.status === 'ready') return;
  const where = redisAddress(client);
  await new Promise<void>((resolve, reject) => {
    let last = '';
    const fail = (err: Error) => { cleanup(); reject(err); };
    const timer = setTimeout(() => fail(new InfrastructureError('redis', `Redis (${where}) not ready after ${timeoutMs} ms${last ? ` (last error: ${last})` : ''}`)), timeoutMs);
    const onReady = () => { cleanup(); resolve(); };
    const onError = (err: Error) => {
      last = err.message;
      if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(err.message)) {
        const user = (client instanceof Redis ? client.options.username : client.options.redisOptions?.username) ?? 'default';
        fail(new CredentialsRefusedError('redis', `Redis (${where}) refused user ${user}: ${err.message}`, ['REDIS_URL', 'REDIS_USERNAME', 'REDIS_PASSWORD']));
      }
    };
    const cleanup = () => { clearTimeout(timer); client.off('ready', onReady); client.off('error', onError); };
    client.on('ready', onReady);
    client.on('error', onError);
  });
}

/** host:port for messages (never the URL, which may hold a password). */
function redisAddress(client: RedisClient): string {
  return client instanceof Redis ? `${client.options.host}:${client.options.port}` : 'the Redis Cluster';
}

// ---- connection-error mapping -------------------------------------------------------

// isRedisConnectionError lives in errors/transient.ts with the other "try again" rules.

/** Maps a connection failure onto InfrastructureError('redis'); anything else (a script bug) is returned unchanged. */
export function toRedisError(err: unknown, what: string): unknown {
  if (err instanceof InfrastructureError) return err;
  if (isRedisConnectionError(err)) {
    return new InfrastructureError('redis', `${what}: ${(err as Error).message}`, { cause: err });
  }
  return err;
}

// ---- Lua scripts ----------------------------------------------------------------------

/** Marks a script whose key count varies per call (file `<name>-n.lua`): the caller passes it first. */
export const VARIADIC = 'n';

interface ScriptDef { command: string; numberOfKeys: number | undefined }

export interface Scripts {
  /** Version-qualified command names, e.g. `tl_0_1_0_dedupe` for dedupe-n.lua. */
  readonly commands: ReadonlyMap<string, string>;
  /**
   * Runs script `name` in one round trip. Connection failures reject with a retriable
   * InfrastructureError('redis'); other errors (a bug in the script) are rethrown as they are.
   */
  run(name: string, keys: readonly string[], args: readonly ScriptArg[], what?: string): Promise<unknown>;
}

const SCRIPTS_DIR = join('src', 'state', 'scripts');


let scriptFiles: { version: string; files: { name: string; nKeys: string; lua: string }[] } | undefined;

function readScriptFiles() {
  if (scriptFiles) return scriptFiles;
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  const dir = join(root, SCRIPTS_DIR);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.lua'))
    .sort()
    .map((f) => {
      const m = /^([A-Za-z][A-Za-z0-9]*)-(\d+|n)\.lua$/.exec(basename(f));
      if (!m) throw new Error(`script file ${f} must be named <name>-<nKeys>.lua (nKeys a number, or "${VARIADIC}")`);
      return { name: m[1], nKeys: m[2], lua: readFileSync(join(dir, f), 'utf8') };
    });
  scriptFiles = { version: (pkg.version ?? '0.0.0').replace(/[^0-9A-Za-z]/g, '_'), files };
  return scriptFiles;
}

const loaded = new WeakMap<RedisClient, Scripts>();

/**
 * Defines every `src/state/scripts/<name>-<nKeys>.lua` on the client with defineCommand as
 * `tl_<version>_<name>` (the package version keeps two deployed versions from clashing).
 * For `<name>-n.lua` numberOfKeys is left undefined, which ioredis takes to mean the caller
 * passes the key count as the first argument; Scripts.run does that. Idempotent per client.
 */
export function loadScripts(client: RedisClient): Scripts {
  const existing = loaded.get(client);
  if (existing) return existing;
  const { version, files } = readScriptFiles();
  const defs = new Map<string, ScriptDef>();
  for (const f of files) {
    const command = `tl_${version}_${f.name}`;
    const numberOfKeys = f.nKeys === VARIADIC ? undefined : Number(f.nKeys);
    client.defineCommand(command, { lua: f.lua, numberOfKeys });
    defs.set(f.name, { command, numberOfKeys });
  }
  const commands = new Map([...defs].map(([n, d]) => [n, d.command] as const));
  const scripts: Scripts = {
    commands,
    async run(name, keys, args, what = name) {
      const def = defs.get(name);
      if (!def) throw new Error(`no Lua script named ${name} in src/state/scripts`);
      if (def.numberOfKeys !== undefined && def.numberOfKeys !== keys.length) {
        throw new Error(`script ${name} takes ${def.numberOfKeys} keys, got ${keys.length}`);
      }
      const fn = (client as unknown as Record<string, (...a: ScriptArg[]) => Promise<unknown>>)[def.command];
      const callArgs: ScriptArg[] = def.numberOfKeys === undefined ? [keys.length, ...keys, ...args] : [...keys, ...args];
      try {
        return await fn.apply(client, callArgs);
      } catch (err) {
        throw toRedisError(err, what);
      }
    },
  };
  loaded.set(client, scripts);
  return scripts;
}

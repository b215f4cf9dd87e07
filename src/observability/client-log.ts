import client from 'prom-client';
import { logger, type Logger } from './logger';

/** kafkajs's logLevel values, kept here so that importing this module does not load kafkajs (its patches must be installed first). */
export const logLevel = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const;

/**
 * Log levels that mean something for the clients' own retries (Kafka, the schema registry,
 * Redis). A retriable condition is normal in a healthy cluster (a coordinator moving, a group
 * rebalancing, a transaction still being committed): it is logged at debug and counted in
 * tracklane_client_retries_total{client,reason}. Only when the same condition lasts past
 * PERSIST_BOUND_MS does it become one warn line (repeated at most once per bound); error is
 * kept for what the client gives up on.
 */
export const PERSIST_BOUND_MS = 30_000;

export type ClientName = 'kafka' | 'registry' | 'redis';

/** Counts per client and reason, for the whole process: client loggers are process-wide. */
const tally = new Map<string, { client: ClientName; reason: string; count: number }>();

function count(name: ClientName, reason: string): void {
  const key = `${name}\u0000${reason}`;
  const entry = tally.get(key) ?? { client: name, reason, count: 0 };
  entry.count++;
  tally.set(key, entry);
}

/**
 * The counter, registered in an engine's registry (createMetrics). Its values are the
 * process's tally, copied at scrape time, so every engine's /metrics shows it with that
 * engine's `topology` label and no second registry has to be merged into what http.ts serves.
 */
export function clientRetriesCounter(registry: client.Registry): client.Counter<'client' | 'reason'> {
  return new client.Counter({
    name: 'tracklane_client_retries_total',
    help: 'Retriable conditions the Kafka, registry and Redis clients retried (reason: the Kafka error type, or the registry/Redis condition)',
    labelNames: ['client', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of tally.values()) this.inc({ client: e.client, reason: e.reason }, e.count);
    },
  });
}

/** The process's count for one client and reason (tests, the demo). */
export function clientRetries(name: ClientName, reason?: string): number {
  let n = 0;
  for (const e of tally.values()) if (e.client === name && (reason === undefined || e.reason === reason)) n += e.count;
  return n;
}

/**
 * Tracks how long one retriable condition has lasted. A streak ends when the condition has
 * not been seen for PERSIST_BOUND_MS; within a streak the first warn comes once it is older
 * than the bound, and then at most one per bound.
 */
export class RetryTracker {
  private readonly streaks = new Map<string, { since: number; last: number; warnedAt?: number }>();

  constructor(
    private readonly name: ClientName,
    private readonly log: Pick<Logger, 'debug' | 'warn'>,
    private readonly boundMs = PERSIST_BOUND_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A retriable condition happened: debug and counted, warn if it has persisted past the bound. */
  retrying(reason: string, fields: Record<string, unknown>, message: string): void {
    count(this.name, reason);
    const at = this.now();
    let s = this.streaks.get(reason);
    if (!s || at - s.last > this.boundMs) this.streaks.set(reason, (s = { since: at, last: at }));
    s.last = at;
    const lasted = at - s.since;
    if (lasted > this.boundMs && (s.warnedAt === undefined || at - s.warnedAt > this.boundMs)) {
      s.warnedAt = at;
      this.log.warn({ ...fields, client: this.name, reason, persistedMs: lasted }, `${message} (still retrying after ${Math.round(lasted / 1000)} s)`);
    } else {
      this.log.debug({ ...fields, client: this.name, reason }, message);
    }
  }

  /** The condition is over (e.g. the client is connected again): the next one starts a new streak. */
  recovered(reason?: string): void {
    if (reason === undefined) this.streaks.clear();
    else this.streaks.delete(reason);
  }
}

interface KafkaErrorCode { type: string; message: string; retriable: boolean }
// kafkajs's table of broker error codes (type, text, retriable); it exports no typed API for it.
const { errorCodes }: { errorCodes: KafkaErrorCode[] } = require('kafkajs/src/protocol/error');
const KAFKA_ERRORS = new Map<string, KafkaErrorCode>(errorCodes.map((e) => [e.message, e]));

/**
 * Conditions kafkajs handles itself although its error table calls them non-retriable (the
 * group is re-joined), and its own retry loops, by the text of the log line.
 */
const KAFKA_HANDLED: Array<[RegExp, string]> = [
  [/^The group is rebalancing, re-joining/, 'REBALANCE_IN_PROGRESS'],
  [/^The coordinator is not aware of this member, re-joining/, 'UNKNOWN_MEMBER_ID'],
  [/^Restarting the consumer in/, 'CONSUMER_RESTART'],
  [/^Failed to connect to broker, reconnecting/, 'CONNECTION'],
  [/^Connection (error|timeout)|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Closed connection/i, 'CONNECTION'],
  [/^Response without match/, 'CONNECTION'],
];

export interface KafkaLogEntry { message: string; error?: unknown; retryCount?: unknown; [k: string]: unknown }

/** How a kafkajs ERROR/WARN line is treated: a retried condition (with its reason) or a real failure. */
export function classifyKafkaLog(entry: KafkaLogEntry): { retriable: boolean; reason: string } {
  const texts = [typeof entry.error === 'string' ? entry.error : undefined, entry.message].filter((t): t is string => !!t);
  for (const text of texts) {
    const known = KAFKA_ERRORS.get(text) ?? [...KAFKA_ERRORS.values()].find((e) => text.endsWith(e.message));
    if (known) return { retriable: known.retriable || known.type === 'REBALANCE_IN_PROGRESS', reason: known.type };
    for (const [pattern, reason] of KAFKA_HANDLED) if (pattern.test(text)) return { retriable: true, reason };
  }
  // A crash kafkajs restarts from (it says so in its next line), or any step of its retry loop.
  if (/^Crash: KafkaJSNumberOfRetriesExceeded/.test(entry.message)) return { retriable: true, reason: 'RETRIES_EXCEEDED' };
  if (typeof entry.retryCount === 'number') return { retriable: true, reason: 'other' };
  return { retriable: false, reason: 'other' };
}

/**
 * kafkajs logs go through pino, never with broker credentials, at the level they deserve.
 * kafkajs calls the creator once per client (with its own log level, ignored: the Kafka
 * config already filters), so each client has its own streaks.
 */
export function kafkaLogCreatorFor(base: Logger, now: () => number = Date.now) {
  return () => {
    const log = base.child({ stage: 'kafkajs' });
    const tracker = new RetryTracker('kafka', log, PERSIST_BOUND_MS, now);
    return ({ level, log: entry }: { level: number; log: KafkaLogEntry }) => {
      const { message, broker, groupId, error } = entry;
      const fields = { broker, groupId, error };
      if (level !== logLevel.ERROR && level !== logLevel.WARN) return log.debug(fields, message);
      const { retriable, reason } = classifyKafkaLog(entry);
      if (retriable) tracker.retrying(reason, fields, message);
      else if (level === logLevel.ERROR) log.error(fields, message);
      else log.warn(fields, message);
    };
  };
}

export const kafkaLogCreator = kafkaLogCreatorFor(logger);

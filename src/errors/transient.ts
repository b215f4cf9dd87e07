import { InfrastructureError, TracklaneError } from './index';

// Which failures are worth retrying, by kind of dependency. One place, so that the batch
// conductor, the stage wrapper and retry.ts agree: a retriable failure pauses and retries;
// anything else is a bug or a refusal, and retrying it would spin forever.

const RETRIABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENOTCONN',
]);
// Server replies that mean "not now" rather than "wrong": loading a dump, a busy script,
// failover/cluster churn, out of memory (keys expire), a replica not writable yet.
const RETRIABLE_REPLY_PREFIXES = ['LOADING', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'READONLY', 'OOM', 'NOREPLICAS'];
// ioredis raises these as plain Errors; matching the message is unavoidable here and kept
// to this one list so the rest of the code matches on InfrastructureError's code.
const IOREDIS_CONNECTION_MESSAGES = [
  "Stream isn't writeable",
  'Connection is closed',
  "Cluster isn't ready",
  'Command timed out',
  'Failed to refresh slots cache',
  'None of startup nodes is available',
];

/** True for errors that mean Redis is unreachable or temporarily unable, not that the command is wrong. */
export function isRedisConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof InfrastructureError) return err.dependency === 'redis';
  const name = err.name;
  if (name === 'MaxRetriesPerRequestError' || name === 'ClusterAllFailedError' || name === 'AbortError') return true;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && RETRIABLE_SOCKET_CODES.has(code)) return true;
  const msg = err.message ?? '';
  if (name === 'ReplyError') return RETRIABLE_REPLY_PREFIXES.some((p) => msg.startsWith(p));
  return IOREDIS_CONNECTION_MESSAGES.some((m) => msg.includes(m));
}


/**
 * Kafka refusals that the batch retry handles even though kafkajs marks them non-retriable:
 * the group moved on (a rebalance) or a newer producer fenced ours. The retry finds out
 * whether the partition is still ours (and otherwise drops the chunk for its new owner), and
 * exactly-once delivery starts a fresh producer. A producer that stays fenced is reported
 * by the engine's health watch, not retried silently forever.
 */
const KAFKA_MEMBERSHIP_TYPES = new Set([
  'REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID',
  'INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_TXN_STATE', 'INVALID_PRODUCER_ID_MAPPING',
]);
/** Error types kafkajs raises when a transactional producer was fenced (see KAFKA_MEMBERSHIP_TYPES). */
export const KAFKA_FENCED_TYPES: ReadonlySet<string> = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);

const KAFKA_OUTAGE_NAMES = new Set(['KafkaJSGroupCoordinatorNotFound', 'KafkaJSLockTimeout']);

interface KafkaJsLike { name: string; retriable?: boolean; type?: string; cause?: unknown }

function asKafkaJs(err: unknown): KafkaJsLike | undefined {
  const e = err as KafkaJsLike | undefined;
  return typeof e?.name === 'string' && e.name.startsWith('KafkaJS') ? e : undefined;
}

/** kafkajs's own verdict (its `retriable` flag), plus the membership refusals above. */
export function isKafkaRetriable(err: unknown): boolean {
  const k = asKafkaJs(err);
  if (!k) return false;
  if (k.retriable === true) return true;
  if (k.type && KAFKA_MEMBERSHIP_TYPES.has(k.type)) return true;
  // kafkajs retries only retriable errors; when it gives up, the outage is still an outage.
  if (k.name === 'KafkaJSNumberOfRetriesExceeded') return true;
  // Marked non-retriable by kafkajs but raised when no broker answers (a broker restart): no
  // broker gave the group coordinator, or a broker's request lock was not freed in time.
  if (KAFKA_OUTAGE_NAMES.has(k.name)) return true;
  // kafkajs nests retriers (consumer -> cluster -> broker): when the inner one gives up, the
  // outer one sees a non-retriable error and wraps it as KafkaJSNonRetriableError, keeping
  // the first failure as `cause`. A broker that is down is then still an outage, not a bug:
  // the verdict is the cause's (a TypeError as cause stays fatal).
  if (k.name === 'KafkaJSNonRetriableError' && k.cause !== undefined && k.cause !== err) return isKafkaRetriable(k.cause);
  return false;
}

export function isKafkaFenced(err: unknown): boolean {
  const k = asKafkaJs(err);
  return !!k?.type && KAFKA_FENCED_TYPES.has(k.type);
}

/** The dependency a retriable failure belongs to, for the retry metric and log line. */
export function dependencyOf(err: unknown): InfrastructureError['dependency'] {
  if (err instanceof InfrastructureError) return err.dependency;
  if (isRedisConnectionError(err)) return 'redis';
  return 'kafka';
}

/** Retriable: says so itself (TracklaneError), kafkajs says so, or Redis is unreachable. */
export function isTransient(err: unknown): boolean {
  if (err instanceof TracklaneError) return err.retriable;
  return isKafkaRetriable(err) || isRedisConnectionError(err);
}

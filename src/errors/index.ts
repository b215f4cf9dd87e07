// Errors carry a code and say whether to retry. Data errors become dead letters with their
// code; retriable errors (broker, registry, Redis unreachable) go through retry.ts and never
// produce dead letters. Match on `code`, never on message strings.

/** Why an event became a dead letter (DESIGN.md section 6). docs/errors.md lists them all. */
export const DEAD_LETTER_REASONS = [
  'DECODE_FAILED',
  'UNKNOWN_SCHEMA_ID',
  'SCHEMA_MISMATCH',
  'VALIDATION_FAILED',
  'MISSING_IDEMPOTENCY_KEY',
  'EVENT_TIME_INVALID',
  'OVERSIZE',
  'DUPLICATE_CONFLICT',
  'CONSENT_DENIED',
  'ENRICHMENT_FAILED',
  'PII_DETECTED',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export class TracklaneError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A bad event: routed to the dead-letter topic, never thrown past the stage. */
export class DataError extends TracklaneError {
  constructor(readonly reason: DeadLetterReason, message: string, readonly path?: string, options?: { cause?: unknown }) {
    super(reason, message, false, options);
  }
}

/** Kafka, the registry or Redis did not answer: retry with backoff, pause consumption. */
export class InfrastructureError extends TracklaneError {
  constructor(readonly dependency: 'kafka' | 'registry' | 'redis', message: string, options?: { cause?: unknown }) {
    super(`${dependency.toUpperCase()}_UNAVAILABLE`, message, true, options);
  }
}

/**
 * Kafka, the registry or Redis answered but refused Tracklane's credentials. Exits 2 like an
 * outage (and stays retriable, so a registry mid-rotation is waited for like one that is
 * down), but the fix is a setting: `settings` names the variables to check. The message
 * names the dependency and the user, never a password.
 */
export class CredentialsRefusedError extends InfrastructureError {
  constructor(dependency: InfrastructureError['dependency'], message: string, readonly settings: string[], options?: { cause?: unknown }) {
    super(dependency, message, options);
  }
}

/**
 * The refusal in `err`, if it is one. kafkajs raises a refused SASL login as
 * KafkaJSSASLAuthenticationError (not retried, not a connection error); its message names
 * the mechanism, not the user or password.
 */
export function credentialsRefused(err: unknown): CredentialsRefusedError | undefined {
  if (err instanceof CredentialsRefusedError) return err;
  if ((err as Error | undefined)?.name === 'KafkaJSSASLAuthenticationError') {
    return new CredentialsRefusedError('kafka', `Kafka refused the SASL login (${(err as Error).message})`,
      ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'], { cause: err });
  }
  return undefined;
}

/** Bad configuration or command input: exit 1 with a message that names the fix. */
export class UserError extends TracklaneError {
  constructor(message: string, readonly details: string[] = []) {
    super('USER_ERROR', message, false);
  }
}

export const EXIT = { ok: 0, user: 1, infrastructure: 2 } as const;

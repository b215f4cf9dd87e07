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

/** Bad configuration or command input: exit 1 with a message that names the fix. */
export class UserError extends TracklaneError {
  constructor(message: string, readonly details: string[] = []) {
    super('USER_ERROR', message, false);
  }
}

export const EXIT = { ok: 0, user: 1, infrastructure: 2 } as const;

import type { PipelineEvent, Stage } from '../pipeline/event';
import { fail, isLive } from '../pipeline/event';

/** Keys longer than this would bloat Redis and Kafka keys; they are bad data, not keys. */
const MAX_IDEMPOTENCY_KEY_CHARS = 256;

/**
 * Semantic checks a schema cannot express: the idempotency key is present and usable, the
 * event time is present and not beyond the allowed future skew of the wall clock.
 */
export function createValidateStage(now: () => number = Date.now): Stage {
  function check(ev: PipelineEvent, nowMs: number): void {
    const record = ev.record!;
    const keyField = ev.source.idempotencyKey;
    const key = record[keyField];
    if (typeof key !== 'string' && typeof key !== 'number') {
      return fail(ev, { reason: 'MISSING_IDEMPOTENCY_KEY', message: `field ${keyField} is missing or not a string`, path: `/${keyField}`, stage: 'validate' });
    }
    const keyText = String(key).trim();
    if (keyText === '' || keyText.length > MAX_IDEMPOTENCY_KEY_CHARS) {
      return fail(ev, { reason: 'MISSING_IDEMPOTENCY_KEY', message: `field ${keyField} is empty or longer than ${MAX_IDEMPOTENCY_KEY_CHARS} characters`, path: `/${keyField}`, stage: 'validate' });
    }
    ev.idempotencyKey = keyText;

    const timeField = ev.source.eventTime.field;
    const raw = record[timeField];
    const eventTime = typeof raw === 'number' ? raw : raw instanceof Date ? raw.getTime() : typeof raw === 'string' ? Date.parse(raw) : NaN;
    if (!Number.isFinite(eventTime) || eventTime <= 0) {
      return fail(ev, { reason: 'EVENT_TIME_INVALID', message: `field ${timeField} is missing or not an epoch-millisecond time`, path: `/${timeField}`, stage: 'validate' });
    }
    const skew = eventTime - nowMs;
    if (skew > ev.source.eventTime.maxFutureSkewMs) {
      return fail(ev, { reason: 'EVENT_TIME_INVALID', message: `event time is ${skew} ms in the future, beyond maxFutureSkew ${ev.source.eventTime.maxFutureSkewMs} ms`, path: `/${timeField}`, stage: 'validate' });
    }
    ev.eventTime = eventTime;
  }

  return {
    name: 'validate',
    async process(batch) {
      const nowMs = now();
      for (const ev of batch) if (isLive(ev)) check(ev, nowMs);
    },
  };
}

import { TracklaneError } from '../errors';

/**
 * A paging receiver (Alertmanager, PagerDuty) did not take a transition. Unreachable, 5xx,
 * 408 and 429 are retriable (RECEIVER_UNAVAILABLE): the forwarder keeps the offset and tries
 * again with backoff for as long as it takes. Any other answer (RECEIVER_REJECTED) says the
 * request itself is wrong (a bad URL path, a routing key PagerDuty does not know): retrying
 * cannot help, so the forwarder stops with exit 1 and the offset stays uncommitted.
 */
export class ReceiverError extends TracklaneError {
  constructor(readonly target: string, readonly status: number | undefined, message: string, retriable: boolean, options?: { cause?: unknown }) {
    super(retriable ? 'RECEIVER_UNAVAILABLE' : 'RECEIVER_REJECTED', message, retriable, options);
  }
}

export function isRetriableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

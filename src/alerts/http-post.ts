import { ReceiverError, isRetriableStatus } from './receiver-error';

/** One attempt at most this long: a receiver that hangs is a receiver that is down. */
const POST_TIMEOUT_MS = 10_000;

/**
 * POSTs JSON; resolves on 2xx, otherwise throws a ReceiverError that says whether a retry can
 * help. Messages name the target and the URL's origin only, never the body (it may carry a
 * routing key).
 */
export async function postJson(target: string, url: string, body: unknown, headers: Record<string, string> = {}): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new ReceiverError(target, undefined, `${target} at ${origin(url)} did not answer: ${(err as Error).message}`, true, { cause: err });
  }
  const text = await res.text().catch(() => '');
  if (res.ok) return;
  throw new ReceiverError(target, res.status, `${target} at ${origin(url)} answered ${res.status}: ${text.slice(0, 300)}`, isRetriableStatus(res.status));
}

function origin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

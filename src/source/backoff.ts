/** Jittered exponential backoff: 100 ms doubling to a 10 s cap, full jitter over the upper half. */
export function backoffMs(attempt: number, baseMs = 100, capMs = 10_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

interface Heartbeating {
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

/** Waits without letting the group session expire; false when the partition is no longer ours. */
export async function sleepWithHeartbeat(ms: number, payload: Heartbeating): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!payload.isRunning() || payload.isStale()) return false;
    await new Promise((r) => setTimeout(r, Math.min(1_000, until - Date.now())));
    await payload.heartbeat().catch(() => undefined);
  }
  return payload.isRunning() && !payload.isStale();
}

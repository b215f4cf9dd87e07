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

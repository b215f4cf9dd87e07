// Every Redis key Tracklane writes is built here. The `{topology}` hash tag keeps one
// topology's keys in one Redis Cluster slot, so a Lua script may touch several of them.

export function keys(topology: string, prefix = 'tl') {
  const tag = `${prefix}:{${topology}}`;
  return {
    /** Hash-free string per idempotency key: first sighting's coordinates + fingerprint. */
    dedupe: (idempotencyKey: string) => `${tag}:dd:${idempotencyKey}`,
    /** Set of user ids an anonymous id linked to (bounded by identity.maxUsersPerAnonymousId). */
    identity: (anonymousId: string) => `${tag}:id:${anonymousId}`,
    /** Session state per `by` value: last event time and session id. */
    session: (byValue: string) => `${tag}:ss:${byValue}`,
    /** SLI bucket counts: one hash per (sli, bucket start). */
    sliBucket: (sli: string, bucketStart: number) => `${tag}:sli:${sli}:${bucketStart}`,
    /** Highest offset already counted per input partition, so replays after a crash don't count twice. */
    sliFence: (topic: string, partition: number) => `${tag}:sf:${topic}:${partition}`,
    /** Alert state per (slo, tier, labels). */
    alertState: (slo: string) => `${tag}:al:${slo}`,
    /** Watermark and emitted-bucket bookkeeping. */
    windowMeta: () => `${tag}:wm`,
    prefix: tag,
  };
}
export type Keys = ReturnType<typeof keys>;

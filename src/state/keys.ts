// Every Redis key Tracklane writes is built here. The `{topology}` hash tag keeps one
// topology's keys in one Redis Cluster slot, so a Lua script may touch several of them.

export function keys(topology: string, prefix = 'tl') {
  const tag = `${prefix}:{${topology}}`;
  return {
    /** String per idempotency key: the first sighting's `topic|partition|offset|fingerprint` (docs/state.md). */
    dedupe: (idempotencyKey: string) => `${tag}:dd:${idempotencyKey}`,
    /** Sorted set of the user ids an anonymous id linked to, scored by event time (bounded by maxUsersPerAnonymousId). */
    identity: (anonymousId: string) => `${tag}:id:${anonymousId}`,
    /** The sessions of one `field=value`: its highest event time, then each session's start and end (docs/state.md). */
    session: (byValue: string) => `${tag}:ses:${byValue}`,
    /** Sorted set per input partition: the session reply given to each offset, until a later batch starts past it. */
    sessionLedger: (topic: string, partition: number) => `${tag}:sl:${topic}:${partition}`,
    /** Highest offset already counted per input partition, so replays after a crash don't count twice. */
    sliFence: (topic: string, partition: number) => `${tag}:sf:${topic}:${partition}`,
    /** Alert state per (slo, tier, labels). */
    alertState: (slo: string) => `${tag}:al:${slo}`,
    /** Watermark and emitted-bucket bookkeeping. */
    windowMeta: () => `${tag}:wm`,
    // ---- SLI windows (src/window/store.ts). `labelsKey` is labelsKey() of src/window/labels.ts. ----
    /** Hash per (sli, label set, bucket start): good, total, late, latency bins. Lua appends the bucket start to the prefix. */
    sliWindowPrefix: (sli: string, labelsKey: string) => `${tag}:sw:${sli}:${labelsKey}:`,
    /** Sorted set of open (not yet claimed) bucket hashes, scored by bucket start. */
    sliOpenWindows: () => `${tag}:swo`,
    /** Hash per input partition ("topic|partition"): the windows and alerts its last batch carried, until that batch is committed. */
    sliEmitLedger: () => `${tag}:swl`,
    /** Set of admitted label sets per SLI (bounded by maxSeries; the rest count as __other__). */
    sliSeries: (sli: string) => `${tag}:sn:${sli}`,
    /** Closed (good,total) per bucket, packed u32 pairs, one string per (sli, label set, chunk of buckets). */
    sliHistoryPrefix: (sli: string, labelsKey: string) => `${tag}:sh:${sli}:${labelsKey}:`,
    sliHistory: (sli: string, labelsKey: string, chunk: number) => `${tag}:sh:${sli}:${labelsKey}:${chunk}`,
    /** Set of label sets that have history for an SLI (what the SLO evaluator reads). */
    sliHistorySeries: (sli: string) => `${tag}:shs:${sli}`,
    /** Hash of every series ever counted: window prefix -> [sli, labelsKey, latest bucket]; the idle close gives each an empty window. */
    sliKnownSeries: () => `${tag}:swk`,
    /** Lease of the instance that drives the idle (wall-clock) close: its holder id, with a TTL. */
    sliIdleLease: () => `${tag}:swi`,
    prefix: tag,
  };
}
export type Keys = ReturnType<typeof keys>;

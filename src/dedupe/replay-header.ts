// The two headers `tracklane replay --from-dlq` puts on every event it re-sends (the other
// headers are the original's, from the dead letter). Dedupe reads the origin; people and
// dead letters read both. Kafka topic names cannot contain ':', so "topic:partition:offset"
// splits unambiguously from the right.

/** Where the replay came from: the dead letter's own record, "dlq topic:partition:offset". */
export const REPLAYED_FROM_HEADER = 'tracklane-replayed-from';
/** Where the event was first read: the dead letter's source_topic:source_partition:source_offset. */
export const REPLAY_ORIGIN_HEADER = 'tracklane-replay-origin';

export interface Coordinates {
  topic: string;
  partition: number;
  offset: string;
}

export function formatCoordinates(c: Coordinates): string {
  return `${c.topic}:${c.partition}:${c.offset}`;
}

/** undefined for anything that is not "topic:partition:offset" with integer partition and offset. */
export function parseCoordinates(text: string | Buffer | undefined): Coordinates | undefined {
  if (text === undefined) return undefined;
  const m = /^(.+):(\d+):(\d+)$/.exec(text.toString());
  return m ? { topic: m[1], partition: Number(m[2]), offset: BigInt(m[3]).toString() } : undefined;
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Consumer, EachBatchPayload, Producer } from 'kafkajs';
import { Registry, registryOptionsFromEnv } from '../../decode/registry';
import { UserError } from '../../errors';
import { PRODUCER_OPTIONS } from '../../sink/producer';
import { createKafka } from '../../source/kafka';
import { loadTopology } from '../../topology/load';
import { planChunks, recordBytes, type Item } from './chunks';
import { CommitPoints } from './commit-point';
import { LetterReader, replayMessage } from './letters';
import { checkReason, select, SKIPS, type Selection, type Skip } from './selection';
import { sendChunk, topicLimits, type Limits } from './send';
import { emptySummary, type ReplaySummary } from './summary';

export interface ReplayOptions {
  topology: string;
  reason?: string;
  /** Epoch ms bounds on the dead letter's failed_at (or source_timestamp with time: 'source'). */
  since?: number;
  until?: number;
  time?: 'failed' | 'source';
  /** Count what would be replayed; send nothing, commit nothing. */
  dryRun?: boolean;
  /** Dead letters per second, at most. */
  rate?: number;
  /** Dead letters per request, at most (the size limit may cut a chunk shorter). */
  chunkRecords?: number;
  /** Give up waiting when nothing arrives for this long before the end is reached. */
  idleMs: number;
  /** Aborting stops after the chunk in flight is acknowledged and committed. */
  signal?: AbortSignal;
  onProgress?: (done: number, pending: number) => void;
}

/** The replay group of a topology: one per --reason, so each reason's progress is its own. */
export function replayGroup(topology: string, reason?: string): string {
  return `${topology}-replay${reason ? `-${reason.toLowerCase()}` : ''}`;
}

interface Ref {
  partition: number;
  offset: string;
  reason?: string;
  skip?: Skip;
}

/**
 * Re-sends dead letters to their source topic, in chunks: a chunk is sent with acks=all and
 * only then are its dead letters' offsets committed in the replay group. Whatever stops the
 * run — a failed send, Ctrl-C, a crash — the dead letters not committed are read again next
 * time; copies of ones that were sent are dropped by dedupe (docs/state.md).
 */
export async function replayDeadLetters(o: ReplayOptions): Promise<ReplaySummary> {
  checkReason(o.reason);
  const topology = loadTopology(o.topology);
  const dlq = topology.outputs.deadLetter.topic;
  const selection: Selection = { reason: o.reason, since: o.since, until: o.until, time: o.time ?? 'failed', sources: new Set(topology.sources.map((s) => s.topic)) };
  const groupId = replayGroup(topology.name, o.reason);
  const kafka = createKafka(`tracklane-replay-${topology.name}`);

  const admin = kafka.admin();
  await admin.connect();
  let ranges: Map<number, { start: bigint; end: bigint }>;
  let limits: Limits;
  try {
    const topics = new Set(await admin.listTopics());
    const missing = [dlq, ...selection.sources].filter((t) => !topics.has(t));
    if (missing.length) throw new UserError(`${missing.length > 1 ? 'topics' : 'topic'} ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist`, ['run `tracklane init -t <topology>` first']);
    ranges = await pendingRanges(admin, groupId, dlq);
    limits = await topicLimits(admin, [...selection.sources]);
  } finally {
    await admin.disconnect();
  }
  let pending = 0;
  for (const r of ranges.values()) pending += Number(r.end - r.start);
  const summary = emptySummary(!!o.dryRun, pending, !!topology.dedupe);
  if (pending === 0) return summary;

  const producer = o.dryRun ? undefined : kafka.producer(PRODUCER_OPTIONS);
  await producer?.connect();
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 200 });
  let fatal: unknown;
  try {
    fatal = await consume(consumer, producer, { o, dlq, selection, limits, ranges, summary });
  } finally {
    // Waits for the chunk in flight: it is sent, then committed, before the group is left.
    await consumer.disconnect();
    await producer?.disconnect();
  }
  if (fatal !== undefined) throw fatal;
  return summary;
}

interface Run {
  o: ReplayOptions;
  dlq: string;
  selection: Selection;
  limits: Limits;
  ranges: Map<number, { start: bigint; end: bigint }>;
  summary: ReplaySummary;
}

/** Runs until every assigned partition is read to its end at the start, or a stop; returns what stopped it, if it failed. */
async function consume(consumer: Consumer, producer: Producer | undefined, run: Run): Promise<unknown> {
  const { o, dlq, summary } = run;
  const letters = new LetterReader(new Registry(registryOptionsFromEnv()));
  const commits = new CommitPoints();
  const maxRecords = Math.max(1, Math.min(o.chunkRecords ?? 500, o.rate ? Math.ceil(o.rate / 10) : Infinity));
  const position = new Map<number, bigint>();
  let assigned: number[] | undefined;
  let lastActivity = Date.now();
  let fatal: unknown;
  let sent = 0;
  let pacedFrom = 0;
  const stopping = () => !!o.signal?.aborted || fatal !== undefined;
  const settled = () => summary.replayed + summary.skipped + summary.failed.length;

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    assigned = e.payload.memberAssignment[dlq] ?? [];
    lastActivity = Date.now();
  });
  // A fetch that held only transaction markers or aborted records never reaches eachBatch,
  // but the position still moves past them.
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    if (e.payload.batchSize === 0) position.set(e.payload.partition, BigInt(e.payload.lastOffset) + 1n);
    lastActivity = Date.now();
  });
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) fatal ??= e.payload.error;
  });

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    if (stopping()) return;
    try {
      await replayBatch(payload);
    } catch (err) {
      // Nothing after the last committed chunk counts as done: the next run reads it again.
      fatal ??= err;
    }
  }

  async function replayBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    const items: Item<Ref>[] = [];
    // Dead letters written after the run started (replays that failed again, among others)
    // wait for the next run: replaying them now could go round in circles.
    const end = run.ranges.get(batch.partition)?.end ?? 0n;
    for (const m of batch.messages) {
      if (BigInt(m.offset) >= end) break;
      const ref: Ref = { partition: batch.partition, offset: m.offset };
      const letter = await letters.read(m);
      ref.skip = select(letter, run.selection);
      if (ref.skip || !letter) {
        items.push({ ref });
        continue;
      }
      ref.reason = letter.reason;
      const message = replayMessage(letter, { topic: dlq, partition: batch.partition, offset: m.offset });
      items.push({ ref, send: { topic: letter.source_topic, message, bytes: recordBytes(message) } });
    }
    for (const chunk of planChunks(items, run.limits.chunkBytes, maxRecords)) {
      if (stopping() || !isRunning() || isStale()) return;
      const records = chunk.filter((i) => i.send).length;
      if (o.rate && records > 0) await pace(records);
      if (stopping()) return; // Ctrl-C while waiting for the rate: this chunk was not sent
      const failures = producer ? await sendChunk(producer, chunk, run.limits) : new Map<Item<Ref>, string>();
      for (const item of chunk) settle(item, failures.get(item));
      for (const item of chunk) resolveOffset(item.ref.offset);
      const offsets = commits.take();
      if (producer && offsets.length) await commitOffsetsIfNecessary({ topics: [{ topic: dlq, partitions: offsets }] });
      o.onProgress?.(settled(), summary.pending);
      lastActivity = Date.now();
      await heartbeat();
    }
    const last = BigInt(batch.lastOffset()) + 1n;
    position.set(batch.partition, last < end ? last : end);
  }

  function settle(item: Item<Ref>, failure: string | undefined): void {
    const { ref } = item;
    if (ref.skip) {
      summary.skipped++;
      summary.skippedBy[ref.skip] = (summary.skippedBy[ref.skip] ?? 0) + 1;
      commits.settle(ref.partition, ref.offset, SKIPS[ref.skip].final);
    } else if (failure !== undefined) {
      summary.failed.push({ deadLetter: `${dlq}:${ref.partition}:${ref.offset}`, error: failure });
      commits.settle(ref.partition, ref.offset, false);
    } else {
      summary.replayed++;
      summary.replayedByReason[ref.reason!] = (summary.replayedByReason[ref.reason!] ?? 0) + 1;
      commits.settle(ref.partition, ref.offset, true);
    }
  }

  /** Waits until `records` more fit under --rate, counted from the first send. */
  async function pace(records: number): Promise<void> {
    if (sent === 0) pacedFrom = Date.now();
    const wait = pacedFrom + (sent / o.rate!) * 1000 - Date.now();
    sent += records;
    if (wait > 0) await sleep(wait, undefined, { signal: o.signal }).catch(() => undefined);
  }

  const done = () => {
    if (!assigned) return false;
    const mine = new Set(assigned);
    for (const [partition, r] of run.ranges) {
      if (!mine.has(partition) || r.start >= r.end) continue;
      if ((position.get(partition) ?? r.start) < r.end) return false;
    }
    return true;
  };

  await consumer.connect();
  await consumer.subscribe({ topic: dlq, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
  for (;;) {
    await sleep(100);
    if (fatal !== undefined) break;
    if (o.signal?.aborted) {
      summary.interrupted = !done();
      break;
    }
    if (done()) break;
    if (assigned && Date.now() - lastActivity > o.idleMs) {
      summary.idle = true;
      break;
    }
  }
  return fatal;
}

/** Per partition of the dead-letter topic: from the group's committed offset (or the start) to the end now. */
async function pendingRanges(admin: Admin, groupId: string, topic: string): Promise<Map<number, { start: bigint; end: bigint }>> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  const ranges = new Map<number, { start: bigint; end: bigint }>();
  for (const p of ends) {
    const low = BigInt(p.low);
    const c = at.get(p.partition) ?? -1n;
    ranges.set(p.partition, { start: c >= low ? c : low, end: BigInt(p.high) });
  }
  return ranges;
}

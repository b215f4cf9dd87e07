import { createHash } from 'node:crypto';
import { writeWireFrame } from '../../src/decode/wire';
import avro from 'avsc';
import { ORDER_V1, ORDER_V2, type Order } from '../helpers/engine-fixture';
import { prng } from '../../src/demo/traffic';

export { prng };

// The chaos stream: unique valid events with identity, sessions and personal data, exact
// duplicates, conflicting re-sends and bad events, laid out per partition. Everything is
// derived from the seed, so a run can be repeated. What an event *is* (type, status,
// region, duration) depends only on its sequence number, never on the seed: the SLI counts
// and thus the expected alerts are the same for every seed of a given size.
//
// Ordering: every event of one user (and so of one anonymous id, one session key) goes to
// one partition, in event-time order; event times rise with the sequence number. A partition
// is therefore in event-time order, except for exact copies of id-less events placed on a
// neighbouring partition within about a minute of their original (cross-partition dedupe),
// far below allowedLateness, so no event can be late whatever the faults do.

export const MIN = 60_000;
/** One event per second of event time: 60 per 1-minute bucket. */
export const STEP_MS = 1_000;
export const REGIONS = ['eu', 'us', 'ap'] as const;

/** Error and slowness bursts, in minutes after the first event (per region or '*'). */
export const INCIDENTS: Array<{ from: number; to: number; region: string; errorRate?: number; slowRate?: number }> = [
  { from: 150, to: 160, region: 'eu', errorRate: 0.2 }, // fast burn: availability page 1h/5m on eu
  { from: 230, to: 245, region: 'ap', slowRate: 0.8 }, // latency page on ap
  { from: 900, to: 1020, region: '*', errorRate: 0.02 }, // two hours: 1h/5m pages, then maybe 6h/30m
  { from: 1500, to: 2300, region: 'us', errorRate: 0.004 }, // slow burn: tickets
  { from: 2600, to: 2608, region: 'eu', errorRate: 0.5 },
];
const BASE_ERROR_RATE = 0.0005;
const BASE_SLOW_RATE = 0.002;

export interface ChaosEvent {
  id: string;
  seq: number;
  ts: number;
  partition: number;
  schema: 'v1' | 'v2';
  /** As written (v1 has no region/duration: the reader's defaults apply, see `asRead`). */
  order: Order;
  /** Copies that may land on another partition (id-less events only). */
  crossCopies: number;
}

export type Role = 'event' | 'duplicate' | 'bad' | 'tick';

export interface PlannedRecord {
  partition: number;
  key: string;
  value: Buffer | null;
  role: Role;
  /** The unique event this record carries (event, duplicate, tick) or conflicts with. */
  event?: ChaosEvent;
  /** For bad records: the dead-letter reason the engine must give. */
  reason?: string;
  /** For bad records: what was done to it (the fault table's detail). */
  badKind?: string;
}

export interface ChaosStream {
  t0: number;
  /** First bucket boundary after the last event (aligned). */
  end: number;
  /** In send order, excluding the start and end ticks. */
  records: PlannedRecord[];
  startTicks: PlannedRecord[];
  endTicks: PlannedRecord[];
  events: ChaosEvent[];
  counts: { unique: number; duplicates: number; crossCopies: number; conflicts: number; bad: Record<string, number> };
}

export interface StreamOptions {
  seed: number;
  /** Records in `records` (unique + duplicates + conflicts + bad). */
  total: number;
  partitions: number;
  schemaIds: { v1: number; v2: number; unrelated: number };
  /** Where event time starts (aligned to a minute); the first event is one minute later. */
  t0: number;
  /** Event time of the end ticks: after `end` by more than allowedLateness. */
  tickAfterEndMs: number;
}


/** A number in [0, 1) from the sequence number alone (seed-independent event content). */
function hash01(seq: number, salt: string): number {
  return createHash('sha1').update(`${salt}:${seq}`).digest().readUInt32BE(0) / 4294967296;
}

function rateAt(minute: number, region: string, kind: 'errorRate' | 'slowRate'): number {
  for (const i of INCIDENTS) if (minute >= i.from && minute < i.to && (i.region === '*' || i.region === region) && i[kind] !== undefined) return i[kind]!;
  return kind === 'errorRate' ? BASE_ERROR_RATE : BASE_SLOW_RATE;
}

export const UNRELATED_SCHEMA = { type: 'record', name: 'Unrelated', namespace: 'tracklane.chaos', fields: [{ name: 'x', type: 'int' }] } as const;
const v1Type = avro.Type.forSchema(ORDER_V1);
const v2Type = avro.Type.forSchema(ORDER_V2);
const unrelatedType = avro.Type.forSchema(UNRELATED_SCHEMA as unknown as avro.Schema);

export function encode(ev: ChaosEvent, ids: StreamOptions['schemaIds'], order: Order = ev.order): Buffer {
  return ev.schema === 'v1' ? writeWireFrame(ids.v1, v1Type.toBuffer(order)) : writeWireFrame(ids.v2, v2Type.toBuffer(order));
}

/** The record as the engine reads it: v1 events get the reader schema's defaults. */
export function asRead(ev: ChaosEvent): Required<Pick<Order, 'region' | 'duration_ms'>> & Order {
  return { ...ev.order, region: ev.order.region ?? 'unknown', duration_ms: ev.order.duration_ms ?? 0 };
}

export function buildStream(o: StreamOptions): ChaosStream {
  const random = prng(o.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  // Shares of `total`: 8 % exact duplicates, 0.5 % conflicting re-sends, 1.5 % bad records.
  const duplicates = Math.round(o.total * 0.08);
  const conflicts = Math.round(o.total * 0.005);
  const bad = Math.round(o.total * 0.015);
  const unique = o.total - duplicates - conflicts - bad;
  const users = Math.max(50, Math.round(unique / 40));
  const firstIdentify = Array.from({ length: users }, () => int(0, 3));
  const seen = new Array<number>(users).fill(0);

  const events: ChaosEvent[] = [];
  for (let seq = 0; seq < unique; seq++) {
    const ts = o.t0 + MIN + seq * STEP_MS;
    const minute = Math.floor((ts - o.t0 - MIN) / MIN);
    const v1 = seq % 53 === 7;
    const region = REGIONS[seq % 3];
    const type = hash01(seq, 'type') < 0.9 ? 'checkout' : 'view';
    const status = hash01(seq, 'status') < rateAt(minute, region, 'errorRate') ? 'error' : 'ok';
    const slow = hash01(seq, 'slow') < rateAt(minute, region, 'slowRate');
    const duration = slow ? 301 + Math.floor(hash01(seq, 'd') * 2_000) : 5 + Math.floor(hash01(seq, 'd') * 290);
    const anonymous = random() < 0.1;
    let partition: number;
    let anon: string | null = null;
    let user: string | null = null;
    let email: string | null;
    if (anonymous) {
      partition = int(0, o.partitions - 1);
      email = random() < 0.5 ? `visitor${seq}@mail.example.org` : null;
    } else {
      const u = int(0, users - 1);
      const k = seen[u]++;
      partition = u % o.partitions;
      anon = `anon-${u}`;
      // Anonymous until the first identify, then logged in on a third of the events.
      if (k === firstIdentify[u] || (k > firstIdentify[u] && random() < 1 / 3)) user = `user-${u}`;
      email = `u${u}.${k % 3}@mail.example.org`;
    }
    const order: Order = {
      event_id: `ev-${seq}`,
      ts,
      type,
      status,
      ...(v1 ? {} : { region, duration_ms: duration }),
      email,
      ip: random() < 0.7 ? `198.51.100.${seq % 250}` : null,
      anonymous_id: anon,
      user_id: user,
      correlation_id: random() < 0.3 ? `corr-${seq}` : null,
    };
    events.push({ id: order.event_id, seq, ts, partition, schema: v1 ? 'v1' : 'v2', order, crossCopies: 0 });
  }

  // Place everything on a line of fractional positions, then sort.
  const placed: Array<PlannedRecord & { at: number }> = events.map((ev) => ({ partition: ev.partition, key: ev.id, value: encode(ev, o.schemaIds), role: 'event', event: ev, at: ev.seq }));
  const conflicted = new Set<number>();
  let crossCopies = 0;
  for (let j = 0; j < duplicates; j++) {
    const ev = events[int(0, unique - 1)];
    const value = placed[ev.seq].value;
    const kind = random();
    if (ev.order.anonymous_id === null && kind < 0.4) {
      // On another partition, within a minute of event time of the original (either side):
      // processed concurrently, possibly first.
      ev.crossCopies++;
      crossCopies++;
      const partition = (ev.partition + int(1, o.partitions - 1)) % o.partitions;
      placed.push({ partition, key: ev.id, value, role: 'duplicate', event: ev, at: Math.max(0, ev.seq + (random() - 0.5) * 80) });
    } else if (kind < 0.7) {
      placed.push({ partition: ev.partition, key: ev.id, value, role: 'duplicate', event: ev, at: ev.seq + 0.5 + random() * 30 });
    } else {
      // Far behind on the same partition: another batch, minutes of wall clock later.
      placed.push({ partition: ev.partition, key: ev.id, value, role: 'duplicate', event: ev, at: Math.min(unique, ev.seq + unique / 3 + (random() * unique) / 3) });
    }
  }
  for (let j = 0; j < conflicts; j++) {
    // Same key, other payload, later on the same partition: the original was accepted first
    // (a copy on another partition could win the race instead, so those are left out).
    let ev = events[int(0, unique - 1)];
    while (ev.crossCopies > 0 || conflicted.has(ev.seq)) ev = events[int(0, unique - 1)];
    conflicted.add(ev.seq);
    const changed: Order = { ...ev.order, status: ev.order.status === 'ok' ? 'error' : 'ok', note: 'conflicting re-send' };
    placed.push({ partition: ev.partition, key: ev.id, value: encode(ev, o.schemaIds, changed), role: 'bad', event: ev, reason: 'DUPLICATE_CONFLICT', badKind: 'conflict', at: ev.seq + 1 + random() * (random() < 0.5 ? 30 : unique / 3) });
  }
  // Events that have conflicts must not also get cross-partition copies later: already so
  // (cross copies were placed before conflicts were chosen, and conflicts avoid them).

  const badCounts: Record<string, number> = {};
  const badKinds: Array<{ kind: string; reason: string; make(n: number): { value: Buffer | null; key?: string } }> = [
    { kind: 'magic byte 1', reason: 'DECODE_FAILED', make: (n) => { const b = encode(events[n % unique], o.schemaIds); b[0] = 1; return { value: b }; } },
    { kind: 'trailing bytes', reason: 'DECODE_FAILED', make: (n) => ({ value: Buffer.concat([encode(events[n % unique], o.schemaIds), Buffer.from([0x02, 0x41])]) }) },
    { kind: 'tombstone', reason: 'DECODE_FAILED', make: () => ({ value: null }) },
    { kind: 'short frame', reason: 'DECODE_FAILED', make: () => ({ value: Buffer.from([0, 0, 0]) }) },
    { kind: 'unknown schema id', reason: 'UNKNOWN_SCHEMA_ID', make: (n) => ({ value: writeWireFrame(1_900_000_000 + n, v2Type.toBuffer(badOrder(n, o.t0))) }) },
    { kind: 'unrelated schema', reason: 'SCHEMA_MISMATCH', make: (n) => ({ value: writeWireFrame(o.schemaIds.unrelated, unrelatedType.toBuffer({ x: n })) }) },
    { kind: 'blank event_id', reason: 'MISSING_IDEMPOTENCY_KEY', make: (n) => ({ value: writeWireFrame(o.schemaIds.v2, v2Type.toBuffer({ ...badOrder(n, o.t0), event_id: '   ' })) }) },
    { kind: 'event time 2 days ahead', reason: 'EVENT_TIME_INVALID', make: (n) => ({ value: writeWireFrame(o.schemaIds.v2, v2Type.toBuffer({ ...badOrder(n, o.t0), ts: Date.now() + 2 * 86_400_000 })) }) },
    { kind: 'event time 0', reason: 'EVENT_TIME_INVALID', make: (n) => ({ value: writeWireFrame(o.schemaIds.v2, v2Type.toBuffer({ ...badOrder(n, o.t0), ts: 0 })) }) },
    { kind: 'oversize', reason: 'OVERSIZE', make: (n) => ({ value: writeWireFrame(o.schemaIds.v2, v2Type.toBuffer({ ...badOrder(n, o.t0), note: 'x'.repeat(3_000) })) }) },
  ];
  for (let j = 0; j < bad; j++) {
    const b = badKinds[j % badKinds.length];
    badCounts[b.reason] = (badCounts[b.reason] ?? 0) + 1;
    const { value } = b.make(j);
    placed.push({ partition: int(0, o.partitions - 1), key: `bad-${j}`, value, role: 'bad', reason: b.reason, badKind: b.kind, at: random() * unique });
  }
  badCounts.DUPLICATE_CONFLICT = conflicts;
  placed.sort((a, b) => a.at - b.at);

  const lastTs = events[unique - 1]?.ts ?? o.t0;
  const end = Math.floor(lastTs / MIN) * MIN + MIN;
  const tick = (name: string, ts: number, partition: number): PlannedRecord => {
    const ev: ChaosEvent = { id: name, seq: -1, ts, partition, schema: 'v2', order: { event_id: name, ts, type: 'tick', status: 'ok', region: 'none', duration_ms: 0 }, crossCopies: 0 };
    return { partition, key: name, value: encode(ev, o.schemaIds), role: 'tick', event: ev };
  };
  return {
    t0: o.t0,
    end,
    records: placed.map(({ at: _at, ...r }) => r),
    startTicks: Array.from({ length: o.partitions }, (_, p) => tick(`tick-start-${p}`, o.t0, p)),
    endTicks: Array.from({ length: o.partitions }, (_, p) => tick(`tick-end-${p}`, end + o.tickAfterEndMs, p)),
    events,
    counts: { unique, duplicates, crossCopies, conflicts, bad: badCounts },
  };
}

/** A well-formed order for the bad records that break something else. */
function badOrder(n: number, t0: number): Order {
  return { event_id: `bad-${n}`, ts: t0 + MIN, type: 'checkout', status: 'ok', region: 'eu', duration_ms: 1, email: `bad${n}@mail.example.org` };
}

/** Key + value fingerprint: how a record read back from the raw topic is matched to the plan. */
export function fingerprint(key: string, value: Buffer | null): string {
  return `${key}\n${value === null ? 'null' : createHash('sha1').update(value).digest('hex')}`;
}

import { createHash, createHmac } from 'node:crypto';
import { referenceAlerts, type Transition } from '../helpers/sli-truth';
import { MIN, asRead, fingerprint, type ChaosEvent, type PlannedRecord } from './stream';

// The ground truth, computed here from what the raw topic really holds (read back after the
// run, so a record the producer had to re-send during the Kafka restart counts as what it
// is: one more copy) and from the plan that says what each record is. Nothing here uses the
// engine's code: the rules are those of docs/state.md and docs/slo.md, written again.

export interface RawRecord { partition: number; offset: number; key: string; fp: string }

export interface ExpectedEnriched {
  event: ChaosEvent;
  /** `partition@offset` of the copies that may be the one enriched (the first on each partition holding one). */
  sources: Set<string>;
  userId: string | null;
  anonymousId: string | null;
  sessionId: string | null;
  email: string | null;
  ip: string | null;
  /** null: generated from the source coordinates. */
  correlationId: string | null;
}

export interface WindowTruth { good: number; total: number; values: number[] }

export interface SloModel {
  name: string;
  sli: string;
  objective: number;
  minEvents: number;
}

export interface Truth {
  enriched: Map<string, ExpectedEnriched>;
  /** `partition@offset` -> reason */
  deadLetters: Map<string, string>;
  windows: Map<string, WindowTruth>;
  /** `slo|labels|tier|status|boundary` */
  transitions: Set<string>;
  /** Series whose burn rate ties a threshold somewhere: their alerts are not compared exactly. */
  ambiguous: string[];
  unplanned: RawRecord[];
  rawCopies: number;
  /** Per `sli|labels`: bad and total per bucket after t0 (what the alert model read). */
  series: Map<string, { bad: number[]; total: number[] }>;
}

export interface TruthOptions {
  topology: string;
  pseudonymSecret: string;
  pseudonymKeyId: string;
  sessionGapMs: number;
  t0: number;
  end: number;
  slos: SloModel[];
}

export function sessionIdOf(topology: string, byKey: string, start: number): string {
  return createHash('sha256').update(`${topology}\n${byKey}\n${start}`).digest('hex').slice(0, 32);
}

export function computeTruth(raw: RawRecord[], plan: Map<string, PlannedRecord>, o: TruthOptions): Truth {
  const pseudonym = (v: string | null | undefined) => (v === null || v === undefined ? null : `${o.pseudonymKeyId}:${createHmac('sha256', o.pseudonymSecret).update(v, 'utf8').digest('hex')}`);
  const enriched = new Map<string, ExpectedEnriched>();
  const deadLetters = new Map<string, string>();
  const unplanned: RawRecord[] = [];
  const byPartition = new Map<number, RawRecord[]>();
  for (const r of raw) {
    let list = byPartition.get(r.partition);
    if (!list) byPartition.set(r.partition, (list = []));
    list.push(r);
  }

  // Identity and sessions run per partition in offset order: every event of an anonymous
  // id or user is on one partition (see stream.ts), so that order is the engine's order.
  const linkedAt = new Map<string, number>();
  const sessions = new Map<string, { start: number; hi: number }>();
  for (const [partition, records] of [...byPartition].sort((a, b) => a[0] - b[0])) {
    const seenHere = new Set<string>();
    for (const r of records.sort((a, b) => a.offset - b.offset)) {
      const p = plan.get(r.fp);
      const at = `${partition}@${r.offset}`;
      if (!p) {
        unplanned.push(r);
        continue;
      }
      if (p.role === 'bad') {
        if (p.reason === 'DUPLICATE_CONFLICT' && !seenHere.has(p.event!.id)) unplanned.push(r); // the original must come first
        deadLetters.set(at, p.reason!);
        continue;
      }
      const ev = p.event!;
      if (seenHere.has(ev.id)) continue; // a later copy on this partition: a duplicate of the first
      seenHere.add(ev.id);
      const known = enriched.get(ev.id);
      if (known) {
        known.sources.add(at); // another partition's first copy: either may be the one kept
        continue;
      }
      const order = ev.order;
      const anon = order.anonymous_id ?? null;
      const own = order.user_id ?? null;
      let userId = own;
      if (anon !== null) {
        if (own !== null) linkedAt.set(anon, Math.min(linkedAt.get(anon) ?? Infinity, ev.ts));
        else if ((linkedAt.get(anon) ?? Infinity) <= ev.ts) userId = `user-${anon.slice('anon-'.length)}`;
      }
      const byKey = userId !== null ? `user_id=${userId}` : anon !== null ? `anonymous_id=${anon}` : null;
      let sessionId: string | null = null;
      if (byKey !== null) {
        let s = sessions.get(byKey);
        if (!s || ev.ts - s.hi > o.sessionGapMs) sessions.set(byKey, (s = { start: ev.ts, hi: ev.ts }));
        s.hi = Math.max(s.hi, ev.ts);
        sessionId = sessionIdOf(o.topology, byKey, s.start);
      }
      enriched.set(ev.id, {
        event: ev,
        sources: new Set([at]),
        userId,
        anonymousId: anon,
        sessionId,
        email: pseudonym(order.email),
        ip: pseudonym(order.ip),
        correlationId: order.correlation_id ?? null,
      });
    }
  }

  // SLI windows: every unique valid event once (ticks are type 'tick': no SLI counts them).
  const windows = new Map<string, WindowTruth>();
  const minutes = (o.end - o.t0) / MIN;
  const series = new Map<string, { bad: number[]; total: number[] }>();
  const count = (sli: string, region: string, bucket: number, good: boolean, value?: number) => {
    const key = `${sli}|region=${region}|${bucket}`;
    const w = windows.get(key) ?? { good: 0, total: 0, values: [] };
    w.total++;
    if (good) w.good++;
    if (value !== undefined) w.values.push(value);
    windows.set(key, w);
    const s = `${sli}|region=${region}`;
    let c = series.get(s);
    if (!c) series.set(s, (c = { bad: new Array<number>(minutes).fill(0), total: new Array<number>(minutes).fill(0) }));
    const m = (bucket - o.t0) / MIN;
    c.total[m]++;
    if (!good) c.bad[m]++;
  };
  for (const { event } of enriched.values()) {
    const read = asRead(event);
    if (read.type !== 'checkout') continue;
    const bucket = Math.floor(event.ts / MIN) * MIN;
    count('checkout-success', read.region, bucket, read.status === 'ok');
    count('checkout-latency', read.region, bucket, read.duration_ms <= 300, read.duration_ms);
  }

  // Alerts: each SLO per label set (docs/slo.md), at boundaries 1..minutes after t0.
  const transitions = new Set<string>();
  const ambiguous: string[] = [];
  for (const slo of o.slos) {
    for (const [name, counts] of series) {
      if (!name.startsWith(`${slo.sli}|`)) continue;
      const labels = name.slice(slo.sli.length + 1);
      let list: Transition[];
      try {
        list = referenceAlerts(counts, minutes, { objective: slo.objective, minEvents: slo.minEvents, assertNoSilence: false });
      } catch (err) {
        ambiguous.push(`${slo.name} ${labels}: ${(err as Error).message}`);
        continue;
      }
      for (const [tier, status, k] of list) transitions.add(`${slo.name}|${labels}|${tier}|${status}|${o.t0 + k * MIN}`);
    }
    // no-data: the SLI had events in every hour of the stream (all label sets together).
    const total = new Array<number>(minutes).fill(0);
    for (const [name, c] of series) if (name.startsWith(`${slo.sli}|`)) c.total.forEach((n, m) => (total[m] += n));
    const first = total.findIndex((n) => n > 0);
    for (let k = first + 60; k <= minutes; k++) {
      if (total.slice(k - 60, k).every((n) => n === 0)) ambiguous.push(`${slo.name}: silent hour before bucket ${k} (no-data would fire)`);
    }
  }
  const rawCopies = raw.length;
  return { enriched, deadLetters, windows, transitions, ambiguous, unplanned, rawCopies, series };
}

/** Plan lookup by key + value fingerprint. */
export function planIndex(records: PlannedRecord[]): Map<string, PlannedRecord> {
  const index = new Map<string, PlannedRecord>();
  for (const r of records) {
    const fp = fingerprint(r.key, r.value);
    const known = index.get(fp);
    // Exact copies share a fingerprint; the first (the event itself) describes them all.
    if (!known || (known.role === 'duplicate' && r.role === 'event')) index.set(fp, r);
  }
  return index;
}

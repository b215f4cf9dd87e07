import type { Truth } from './truth';

// Observed outputs against the ground truth: one row per check, with what was expected, what
// came out and the difference (a few examples of each kind of difference).

export interface ObservedEnriched {
  count: number;
  key: string;
  partition: number;
  offset: number;
  userId: string | null;
  anonymousId: string | null;
  sessionId: string | null;
  email: string | null;
  ip: string | null;
  correlationId: string;
  correlationGenerated: boolean;
  eventTime: number;
  keyId: string | null;
}

export interface ObservedWindow {
  count: number;
  good: number;
  total: number;
  late: number;
  latency: { count: number; p50: number; p95: number; p99: number; max: number } | null;
  bounds: boolean;
}

export interface ObservedAlert { key: string; dedupKey: string; status: string; startsAt: number; endsAt: number | null }

export interface Observed {
  enriched: Map<string, ObservedEnriched>;
  enrichedRecords: number;
  /** `partition@offset` -> reasons (one per dead letter read) */
  deadLetters: Map<string, string[]>;
  windows: Map<string, ObservedWindow>;
  alerts: ObservedAlert[];
  /** Values that must never be seen in clear, found in outputs or logs. */
  personalDataLeaks: string[];
}

export interface Discrepancy { check: string; expected: string; got: string; diff: string }

function sample(items: string[], n = 3): string {
  return items.length === 0 ? '' : `${items.slice(0, n).join(', ')}${items.length > n ? ', ...' : ''}`;
}

function diffText(parts: Array<[string, string[]]>): string {
  const shown = parts.filter(([, items]) => items.length > 0).map(([what, items]) => `${items.length} ${what} (${sample(items)})`);
  return shown.length ? shown.join('; ') : 'none';
}

export interface CheckResult { rows: Discrepancy[]; failed: Discrepancy[] }

export function compare(truth: Truth, seen: Observed, generatedCorrelation: (partition: number, offset: number) => string): CheckResult {
  const rows: Discrepancy[] = [];
  const add = (check: string, expected: number | string, got: number | string, parts: Array<[string, string[]]>) =>
    rows.push({ check, expected: String(expected), got: String(got), diff: diffText(parts) });

  // 1. Enriched: the unique valid events exactly, none twice.
  const missing = [...truth.enriched.keys()].filter((id) => !seen.enriched.has(id));
  const extra = [...seen.enriched.keys()].filter((id) => !truth.enriched.has(id));
  const twice = [...seen.enriched].filter(([, e]) => e.count > 1).map(([id, e]) => `${id} x${e.count}`);
  add('enriched (read_committed): set, none twice', truth.enriched.size, seen.enrichedRecords, [['missing', missing], ['unexpected', extra], ['repeated', twice]]);

  // 2. Enriched content: identity, session, pseudonyms, correlation, lineage.
  const wrong: Record<string, string[]> = { key: [], source: [], user_id: [], anonymous_id: [], session_id: [], email: [], ip: [], correlation: [], event_time: [] };
  for (const [id, want] of truth.enriched) {
    const got = seen.enriched.get(id);
    if (!got) continue;
    const at = `${got.partition}@${got.offset}`;
    if (got.key !== id) wrong.key.push(`${id}: key ${got.key}`);
    if (!want.sources.has(at)) wrong.source.push(`${id}: ${at} not in ${[...want.sources].join('/')}`);
    if (got.userId !== want.userId) wrong.user_id.push(`${id}: ${got.userId} != ${want.userId}`);
    if (got.anonymousId !== want.anonymousId) wrong.anonymous_id.push(`${id}: ${got.anonymousId} != ${want.anonymousId}`);
    if (got.sessionId !== want.sessionId) wrong.session_id.push(`${id}: ${got.sessionId?.slice(0, 8)} != ${want.sessionId?.slice(0, 8)}`);
    if (got.email !== want.email) wrong.email.push(`${id}: email`);
    if (got.ip !== want.ip) wrong.ip.push(`${id}: ip`);
    const correlation = want.correlationId ?? generatedCorrelation(got.partition, got.offset);
    if (got.correlationId !== correlation || got.correlationGenerated !== (want.correlationId === null)) wrong.correlation.push(`${id}: ${got.correlationId}`);
    if (got.eventTime !== want.event.ts) wrong.event_time.push(`${id}: ${got.eventTime} != ${want.event.ts}`);
  }
  const wrongIds = new Set(Object.values(wrong).flatMap((l) => l.map((s) => s.split(':')[0])));
  add('enriched content (identity, session, pseudonyms, lineage)', `${truth.enriched.size} exact`, `${truth.enriched.size - missing.length - wrongIds.size} exact`, Object.entries(wrong).map(([field, l]) => [`wrong ${field}`, l]));

  // 3. Dead letters: the bad records exactly, by source offset and reason.
  const dlMissing: string[] = [];
  const dlWrong: string[] = [];
  const dlTwice: string[] = [];
  let dlRecords = 0;
  for (const [at, reasons] of seen.deadLetters) {
    dlRecords += reasons.length;
    if (reasons.length > 1) dlTwice.push(`${at} x${reasons.length}`);
  }
  for (const [at, reason] of truth.deadLetters) {
    const got = seen.deadLetters.get(at);
    if (!got) dlMissing.push(`${at} ${reason}`);
    else if (got[0] !== reason) dlWrong.push(`${at}: ${got[0]} != ${reason}`);
  }
  const dlExtra = [...seen.deadLetters.keys()].filter((at) => !truth.deadLetters.has(at)).map((at) => `${at} ${seen.deadLetters.get(at)![0]}`);
  add('dead letters (source offset, reason)', truth.deadLetters.size, dlRecords, [['missing', dlMissing], ['unexpected', dlExtra], ['wrong reason', dlWrong], ['repeated', dlTwice]]);

  // 4. SLI windows: per sli/labels/window_start, good/total exact, latency to the sketch.
  const wMissing = [...truth.windows.keys()].filter((k) => !seen.windows.has(k));
  const wExtra = [...seen.windows.keys()].filter((k) => !truth.windows.has(k));
  const wTwice = [...seen.windows].filter(([, w]) => w.count > 1).map(([k, w]) => `${k} x${w.count}`);
  const wCounts: string[] = [];
  const wLate: string[] = [];
  const wLatency: string[] = [];
  let windowRecords = 0;
  for (const w of seen.windows.values()) windowRecords += w.count;
  for (const [k, t] of truth.windows) {
    const w = seen.windows.get(k);
    if (!w) continue;
    if (w.good !== t.good || w.total !== t.total) wCounts.push(`${k}: ${w.good}/${w.total} != ${t.good}/${t.total}`);
    if (w.late !== 0 || !w.bounds) wLate.push(`${k}: late ${w.late}${w.bounds ? '' : ', bad bounds'}`);
    if (k.startsWith('checkout-latency|')) {
      const sorted = [...t.values].sort((a, b) => a - b);
      const exact = (q: number) => sorted[Math.floor(q * (sorted.length - 1))];
      const l = w.latency;
      if (!l || l.count !== sorted.length || l.max !== sorted[sorted.length - 1]) wLatency.push(`${k}: ${JSON.stringify(l)}`);
      else if (([['p50', 0.5], ['p95', 0.95], ['p99', 0.99]] as const).some(([name, q]) => Math.abs(l[name] - exact(q)) > 0.01 * exact(q) + 1e-9)) wLatency.push(`${k}: quantiles`);
    }
  }
  add('SLI windows (good/total per sli, labels, window_start)', truth.windows.size, windowRecords, [['missing', wMissing], ['unexpected', wExtra], ['repeated', wTwice], ['wrong good/total', wCounts], ['late or bad bounds', wLate], ['wrong latency', wLatency]]);

  // 5. Alerts: the model's transitions exactly, each once, firing/resolved alternating.
  const seenKeys = new Map<string, number>();
  for (const a of seen.alerts) seenKeys.set(a.key, (seenKeys.get(a.key) ?? 0) + 1);
  const aMissing = [...truth.transitions].filter((k) => !seenKeys.has(k));
  const aExtra = [...seenKeys.keys()].filter((k) => !truth.transitions.has(k));
  const aTwice = [...seenKeys].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`);
  const byDedup = new Map<string, ObservedAlert[]>();
  for (const a of seen.alerts) byDedup.set(a.dedupKey, [...(byDedup.get(a.dedupKey) ?? []), a]);
  const unpaired: string[] = [];
  for (const [key, list] of byDedup) {
    list.sort((x, y) => (x.status === 'firing' ? x.startsAt : x.endsAt!) - (y.status === 'firing' ? y.startsAt : y.endsAt!) || (x.status === 'firing' ? -1 : 1));
    list.forEach((a, i) => {
      if (a.status !== (i % 2 === 0 ? 'firing' : 'resolved')) unpaired.push(`${key} #${i} ${a.status}`);
      else if (a.status === 'resolved' && a.startsAt !== list[i - 1].startsAt) unpaired.push(`${key} #${i} resolved starts_at differs`);
    });
    // A firing that never resolved is fine only when the model also ends firing.
  }
  add('alert transitions (slo, labels, tier, status, boundary) = model', truth.transitions.size, seen.alerts.length, [['missing', aMissing], ['unexpected', aExtra], ['repeated', aTwice], ['out of order', unpaired], ['model ambiguous', truth.ambiguous]]);

  // 6. Personal data never in clear, in outputs or logs.
  add('personal data in clear (outputs, engine logs)', 0, seen.personalDataLeaks.length, [['leaks', seen.personalDataLeaks]]);

  // 7. The raw topic is what was planned (harness sanity).
  add('raw records match the plan (harness)', 0, truth.unplanned.length, [['unplanned', truth.unplanned.map((r) => `${r.partition}@${r.offset} ${r.key}`)]]);

  return { rows, failed: rows.filter((r) => r.diff !== 'none') };
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.min(120, Math.max(h.length, ...rows.map((r) => r[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => (c.length > widths[i] ? `${c.slice(0, widths[i] - 1)}…` : c.padEnd(widths[i]))).join(' | ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(line)].join('\n');
}

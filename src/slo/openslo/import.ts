import { parseAllDocuments, stringify } from 'yaml';
import { formatDuration } from '../../topology/duration';
import { googleSreTiers } from '../../topology/tiers';
import { fromShorthand } from './duration';
import { ALERTS_TOPIC_TARGET, ANNOTATION, API_VERSION, METRIC_SOURCE_TYPE, type Doc, type MetricSource } from './model';

// `tracklane slo import FILE.yaml`: OpenSLO v1 SLOs whose queries are Tracklane CEL (metricSource
// type `tracklane`) -> the `slis:` and `slos:` parts of a topology. The reverse of export.ts;
// whatever does not map is named per document in `notes`, never silently dropped.

export interface ImportNote { doc: string; message: string }
export interface OpenSloImport {
  slis: Array<Record<string, unknown>>;
  slos: Array<Record<string, unknown>>;
  /** `slis:` and `slos:` as topology YAML (to paste under `spec:`). */
  yaml: string;
  notes: ImportNote[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const DEFAULT_MIN_EVENTS = 10;

class Context {
  readonly notes: ImportNote[] = [];
  readonly byKind = new Map<string, Map<string, Doc>>();
  note(doc: string, message: string): void {
    this.notes.push({ doc, message });
  }
  get(kind: string, name: string): Doc | undefined {
    return this.byKind.get(kind)?.get(name);
  }
}

/** A metric source that Tracklane evaluates: type tracklane, or a ref to a DataSource of that type. */
function tracklaneSpec(ctx: Context, where: string, holder: unknown): Obj | undefined {
  const source = isObj(holder) && isObj(holder.metricSource) ? (holder.metricSource as MetricSource) : undefined;
  if (!source) return void ctx.note(where, 'no metricSource');
  let type = source.type;
  if (type === undefined && source.metricSourceRef) type = str(ctx.get('DataSource', source.metricSourceRef)?.spec.type);
  if (type?.toLowerCase() !== METRIC_SOURCE_TYPE) {
    return void ctx.note(where, `metricSource type ${type ?? '(none)'} is not ${METRIC_SOURCE_TYPE}: only Tracklane CEL over the topology's events can be imported`);
  }
  return isObj(source.spec) ? source.spec : {};
}

function seriesOf(spec: Obj, out: Obj): void {
  if (Array.isArray(spec.groupBy) && spec.groupBy.length > 0) out.groupBy = spec.groupBy;
  if (typeof spec.maxSeries === 'number') out.maxSeries = spec.maxSeries;
}

/** The topology SLI of an OpenSLO SLI spec, without a latency threshold (that is the SLO's objective value). */
function convertSli(ctx: Context, name: string, where: string, spec: Obj): Obj | undefined {
  const builtin = builtinSli(ctx, name, where, spec);
  if (builtin !== undefined) return builtin || undefined;
  if (isObj(spec.ratioMetric)) {
    const r = spec.ratioMetric;
    if (r.raw !== undefined) return void ctx.note(where, 'ratioMetric raw (a precomputed ratio) cannot be computed from events: not imported');
    const total = r.total !== undefined ? tracklaneSpec(ctx, `${where} total`, r.total) : {};
    if (!total) return undefined;
    const expr = (s: Obj) => str(s.expression) ?? str(s.query);
    let good: string | undefined;
    if (r.good !== undefined) {
      const g = tracklaneSpec(ctx, `${where} good`, r.good);
      if (!g) return undefined;
      good = expr(g);
    } else if (r.bad !== undefined) {
      const b = tracklaneSpec(ctx, `${where} bad`, r.bad);
      if (!b) return undefined;
      const bad = expr(b);
      if (bad) {
        good = `!(${bad})`;
        ctx.note(where, `bad "${bad}" imported as good "${good}"`);
      }
    }
    if (!good) return void ctx.note(where, 'ratioMetric needs a good (or bad) query with a CEL expression: not imported');
    if (r.total === undefined) ctx.note(where, 'ratioMetric has no total: every event counts (total "true")');
    const out: Obj = { name, ratio: { good, total: expr(total) ?? 'true' } };
    seriesOf(total, out);
    return out;
  }
  if (isObj(spec.thresholdMetric)) {
    const s = tracklaneSpec(ctx, where, spec.thresholdMetric);
    if (!s) return undefined;
    const field = str(s.field) ?? str(s.query);
    if (!field) return void ctx.note(where, 'thresholdMetric of type tracklane needs spec.field (the event field holding the value): not imported');
    const latency: Obj = { field };
    if (str(s.filter)) latency.filter = s.filter;
    const out: Obj = { name, latency };
    seriesOf(s, out);
    return out;
  }
  return void ctx.note(where, 'neither ratioMetric nor thresholdMetric: not imported');
}

/**
 * A Tracklane built-in SLI as the exporter writes it: spec.builtin plus its options. Undefined
 * when the SLI is not one, false when it is one that cannot be imported (noted).
 */
function builtinSli(ctx: Context, name: string, where: string, spec: Obj): Obj | false | undefined {
  const holder = isObj(spec.ratioMetric) ? spec.ratioMetric.total : spec.thresholdMetric;
  const source = isObj(holder) && isObj(holder.metricSource) ? holder.metricSource : undefined;
  if (!source || !isObj(source.spec) || typeof source.spec.builtin !== 'string') return undefined;
  const s = tracklaneSpec(ctx, where, holder);
  if (!s) return false;
  const out: Obj = { name, builtin: s.builtin };
  if (Array.isArray(s.fields)) out.fields = s.fields;
  if (Array.isArray(s.reasons)) out.reasons = s.reasons;
  if (typeof s.thresholdMs === 'number') out.threshold = formatDuration(s.thresholdMs);
  seriesOf(s, out);
  return out;
}

interface Tier { name: string; severity: 'page' | 'ticket'; long: number; short: number; threshold: number }

function conditionOf(ctx: Context, where: string, policy: Doc): { spec: Obj; annotations: Record<string, string> } | undefined {
  const conditions = Array.isArray(policy.spec.conditions) ? policy.spec.conditions : [];
  if (conditions.length === 0) return void ctx.note(where, 'no conditions: not imported');
  if (conditions.length > 1) ctx.note(where, 'OpenSLO allows one condition per policy; only the first is imported');
  const c = conditions[0];
  if (isObj(c) && str(c.conditionRef)) {
    const d = ctx.get('AlertCondition', c.conditionRef as string);
    if (!d) return void ctx.note(where, `conditionRef ${String(c.conditionRef)}: no AlertCondition of that name in the file`);
    return { spec: d.spec, annotations: d.metadata.annotations ?? {} };
  }
  if (isObj(c) && isObj(c.spec)) return { spec: c.spec, annotations: (isObj(c.metadata) ? (c.metadata.annotations as Record<string, string>) : undefined) ?? {} };
  return void ctx.note(where, 'condition is neither an inline AlertCondition nor a conditionRef');
}

function convertPolicy(ctx: Context, policy: Doc): Tier | undefined {
  const where = `AlertPolicy ${policy.metadata.name}`;
  const found = conditionOf(ctx, where, policy);
  if (!found) return undefined;
  const { spec, annotations } = found;
  const cond = isObj(spec.condition) ? spec.condition : {};
  if ((cond.kind ?? 'burnrate') !== 'burnrate') return void ctx.note(where, `condition kind ${String(cond.kind)}: only burnrate maps to a Tracklane tier`);
  const severity = spec.severity;
  if (severity !== 'page' && severity !== 'ticket') return void ctx.note(where, `severity ${String(severity)}: Tracklane tiers are page or ticket; not imported`);
  if (cond.op !== 'gt') ctx.note(where, `op ${String(cond.op)}: Tracklane tiers breach when the burn rate is above (gt) the threshold; imported as gt`);
  if (typeof cond.threshold !== 'number' || cond.threshold <= 0) return void ctx.note(where, 'condition.threshold must be a positive number');
  const long = (annotations[ANNOTATION.longWindow] ? parseTracklaneDuration(annotations[ANNOTATION.longWindow]) : undefined) ?? fromShorthand(cond.lookbackWindow);
  if (long === undefined) return void ctx.note(where, `lookbackWindow ${String(cond.lookbackWindow)} is not a duration-shorthand`);
  let short = annotations[ANNOTATION.shortWindow] ? parseTracklaneDuration(annotations[ANNOTATION.shortWindow]) : undefined;
  if (short === undefined) {
    short = Math.max(60_000, Math.round(long / 12 / 60_000) * 60_000);
    ctx.note(where, `no ${ANNOTATION.shortWindow}: short window set to ${formatDuration(short)} (1/12 of the lookback window, as the Google SRE workbook does)`);
  }
  const after = fromShorthand(cond.alertAfter);
  if (after !== undefined && after > 0) ctx.note(where, `alertAfter ${String(cond.alertAfter)} is not mapped: a Tracklane tier fires when the short window burns too`);
  return { name: annotations[ANNOTATION.tier] ?? policy.metadata.name, severity, long, short, threshold: cond.threshold };
}

function parseTracklaneDuration(text: string): number | undefined {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (!m || text === '') return undefined;
  const [d, h, min, s, ms] = m.slice(1).map((x) => Number(x ?? 0));
  return (((d * 24 + h) * 60 + min) * 60 + s) * 1000 + ms;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

/** `google-sre` (with `disable`) when the tiers are the google-sre ones for this period, else the explicit list. */
function tiersYaml(tiers: Tier[], periodMs: number): Obj {
  if (tiers.length === 0) return { tiers: 'none' };
  const sre = googleSreTiers(periodMs);
  const matches = tiers.every((t) => {
    const s = sre.find((x) => x.name === t.name);
    return s && s.severity === t.severity && s.longWindowMs === t.long && s.shortWindowMs === t.short && close(s.threshold, t.threshold);
  }) && new Set(tiers.map((t) => t.name)).size === tiers.length;
  if (matches) {
    const disable = sre.filter((s) => !tiers.some((t) => t.name === s.name)).map((s) => s.name);
    return disable.length > 0 ? { tiers: 'google-sre', disable } : { tiers: 'google-sre' };
  }
  return { tiers: tiers.map((t) => ({ name: t.name, severity: t.severity, long: formatDuration(t.long), short: formatDuration(t.short), threshold: t.threshold })) };
}

function policiesOf(ctx: Context, where: string, refs: unknown): Doc[] {
  const out: Doc[] = [];
  for (const ref of Array.isArray(refs) ? refs : []) {
    const name = typeof ref === 'string' ? ref : isObj(ref) ? str(ref.alertPolicyRef) : undefined;
    if (name) {
      const d = ctx.get('AlertPolicy', name);
      if (d) out.push(d);
      else ctx.note(where, `alertPolicyRef ${name}: no AlertPolicy of that name in the file`);
    } else if (isObj(ref) && ref.kind === 'AlertPolicy' && isObj(ref.metadata) && isObj(ref.spec)) {
      out.push(ref as unknown as Doc);
    } else {
      ctx.note(where, 'an alertPolicies entry is neither a name, an alertPolicyRef nor an inline AlertPolicy');
    }
  }
  return out;
}

function convertSlo(ctx: Context, slo: Doc, slis: Map<string, Obj>): Obj | undefined {
  const where = `SLO ${slo.metadata.name}`;
  const s = slo.spec;
  const method = s.budgetingMethod ?? 'Occurrences';
  if (method !== 'Occurrences') return void ctx.note(where, `budgetingMethod ${String(method)}: Tracklane budgets count events (Occurrences); not imported`);
  // The indicator: inline, or by reference to an SLI document.
  let sliName: string | undefined;
  let sliSpec: Obj | undefined;
  if (isObj(s.indicator) && isObj(s.indicator.metadata) && isObj(s.indicator.spec)) {
    sliName = str(s.indicator.metadata.name);
    sliSpec = s.indicator.spec;
  } else if (str(s.indicatorRef)) {
    sliName = s.indicatorRef as string;
    sliSpec = ctx.get('SLI', sliName)?.spec;
    if (!sliSpec) return void ctx.note(where, `indicatorRef ${sliName}: no SLI of that name in the file`);
  }
  if (!sliName || !sliSpec) return void ctx.note(where, 'no indicator or indicatorRef (composite SLOs are not imported)');
  let sli = slis.get(sliName);
  if (!sli) {
    const converted = convertSli(ctx, sliName, `SLI ${sliName}`, sliSpec);
    if (!converted) return void ctx.note(where, `its SLI ${sliName} could not be imported`);
    sli = converted;
  }
  const objectives = Array.isArray(s.objectives) ? s.objectives.filter(isObj) : [];
  if (objectives.length === 0) return void ctx.note(where, 'no objectives');
  if (objectives.length > 1) ctx.note(where, `${objectives.length} objectives: Tracklane has one per SLO; only the first is imported`);
  const o = objectives[0];
  if (o.indicator !== undefined || o.indicatorRef !== undefined) return void ctx.note(where, 'composite objectives (indicator per objective) are not imported');
  const objective = typeof o.target === 'number' ? o.target : typeof o.targetPercent === 'number' ? o.targetPercent / 100 : undefined;
  if (objective === undefined || !(objective > 0 && objective < 1)) return void ctx.note(where, 'objective target must be in (0, 1) (or targetPercent in (0, 100))');
  if (isObj(sli.latency)) {
    if (typeof o.value !== 'number') return void ctx.note(where, `thresholdMetric SLI ${sliName} needs objectives[0].value (the latency threshold)`);
    if (o.op !== 'lte') ctx.note(where, `op ${String(o.op)}: a Tracklane latency event is good when its value is <= the threshold; imported as lte`);
    const had = (sli.latency as Obj).threshold;
    if (had !== undefined && had !== o.value) return void ctx.note(where, `SLI ${sliName} already has threshold ${String(had)} from another SLO; a Tracklane latency SLI has one threshold: not imported`);
    sli.latency = { ...(sli.latency as Obj), threshold: o.value };
    // Keep field order readable: field, threshold, filter.
    const { field, threshold, filter } = sli.latency as Obj;
    sli.latency = filter === undefined ? { field, threshold } : { field, threshold, filter };
  } else if (sli.builtin === undefined && (o.op !== undefined || o.value !== undefined)) {
    ctx.note(where, 'op/value of a ratioMetric objective are not mapped (the ratio is good/total)');
  }
  slis.set(sliName, sli);
  // Period: rolling, exact from the annotation when the shorthand had to round it.
  const windows = Array.isArray(s.timeWindow) ? s.timeWindow.filter(isObj) : [];
  const annotations = slo.metadata.annotations ?? {};
  let periodMs = annotations[ANNOTATION.period] ? parseTracklaneDuration(annotations[ANNOTATION.period]) : undefined;
  if (windows.length > 0) {
    const w = windows[0];
    if (w.calendar !== undefined || w.isRolling === false) ctx.note(where, `calendar-aligned timeWindow imported as a rolling period of ${String(w.duration)}`);
    periodMs ??= fromShorthand(w.duration);
    if (periodMs === undefined) return void ctx.note(where, `timeWindow duration ${String(w.duration)} is not a duration-shorthand`);
  } else {
    periodMs ??= 30 * 86_400_000;
    ctx.note(where, 'no timeWindow: Tracklane\'s default rolling 30d');
  }
  const out: Obj = { name: slo.metadata.name, sli: sliName, objective, period: formatDuration(periodMs) };
  const minEvents = Number(annotations[ANNOTATION.minEvents] ?? DEFAULT_MIN_EVENTS);
  if (minEvents !== DEFAULT_MIN_EVENTS) out.minEvents = minEvents;
  const tiers = policiesOf(ctx, where, s.alertPolicies).map((p) => convertPolicy(ctx, p)).filter((t): t is Tier => t !== undefined);
  out.alerting = { ...(annotations[ANNOTATION.runbook] ? { runbook: annotations[ANNOTATION.runbook] } : {}), ...tiersYaml(tiers, periodMs) };
  return out;
}

const NOT_MAPPED: Record<string, string> = {
  Service: 'Tracklane has no Service object: the topology is the service',
  DataSource: 'only used to resolve metricSourceRef',
  AlertNotificationTarget: 'Tracklane publishes transitions to the alerts topic; `tracklane alerts forward --to` chooses the receivers',
  AlertCondition: 'only used through an AlertPolicy',
};

export function importOpenSlo(text: string): OpenSloImport {
  const ctx = new Context();
  const docs: Doc[] = [];
  parseAllDocuments(text).forEach((parsed, i) => {
    if (!('errors' in parsed) || parsed.errors.length > 0) {
      ctx.note(`document ${i + 1}`, `not YAML: ${'errors' in parsed ? parsed.errors[0]?.message : 'unreadable'}`);
      return;
    }
    const d = parsed.toJS() as unknown;
    if (d === null || d === undefined) return;
    if (!isObj(d) || !isObj(d.metadata) || !str(d.metadata.name) || typeof d.kind !== 'string') {
      return void ctx.note(`document ${i + 1}`, 'not an OpenSLO object (kind, metadata.name and spec)');
    }
    const doc = { ...d, spec: isObj(d.spec) ? d.spec : {} } as unknown as Doc;
    if (doc.apiVersion !== API_VERSION) return void ctx.note(`${doc.kind} ${doc.metadata.name}`, `apiVersion ${String(doc.apiVersion)}: only ${API_VERSION} is imported`);
    let kind = ctx.byKind.get(doc.kind);
    if (!kind) ctx.byKind.set(doc.kind, (kind = new Map()));
    kind.set(doc.metadata.name, doc);
    docs.push(doc);
  });
  const slis = new Map<string, Obj>();
  const slos: Obj[] = [];
  for (const d of docs) {
    if (d.kind === 'SLO') {
      const slo = convertSlo(ctx, d, slis);
      if (slo) slos.push(slo);
    } else if (d.kind === 'SLI') {
      if (!docs.some((x) => x.kind === 'SLO' && x.spec.indicatorRef === d.metadata.name)) ctx.note(`SLI ${d.metadata.name}`, 'no SLO refers to it: not imported');
    } else if (d.kind === 'AlertNotificationTarget' && d.spec.target === ALERTS_TOPIC_TARGET) {
      // Tracklane's own (written by export): the alerts topic, which is where alerts go anyway.
    } else if (d.kind !== 'AlertPolicy') {
      if (NOT_MAPPED[d.kind] && d.kind !== 'AlertCondition' && d.kind !== 'DataSource') ctx.note(`${d.kind} ${d.metadata.name}`, `not mapped: ${NOT_MAPPED[d.kind]}`);
      else if (!NOT_MAPPED[d.kind]) ctx.note(`${d.kind} ${d.metadata.name}`, `kind ${d.kind} is not part of openslo/v1: skipped`);
    }
  }
  for (const d of docs) {
    if (d.kind !== 'AlertPolicy') continue;
    const used = docs.some((x) => x.kind === 'SLO' && Array.isArray(x.spec.alertPolicies) && x.spec.alertPolicies.some((r) => r === d.metadata.name || (isObj(r) && r.alertPolicyRef === d.metadata.name)));
    if (!used) ctx.note(`AlertPolicy ${d.metadata.name}`, 'no SLO refers to it: not imported');
  }
  const sliList = [...slis.values()];
  const yaml = stringify({ slis: sliList, slos }, { lineWidth: 0 });
  return { slis: sliList, slos, yaml, notes: ctx.notes };
}

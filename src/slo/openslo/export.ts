import { stringify } from 'yaml';
import { formatDuration } from '../../topology/duration';
import type { BurnRateTier, SliSpec, SloSpec, Topology } from '../../topology/types';
import { BUILTIN_DEFINITIONS } from '../../topology/builtin-slis';
import { toShorthand } from './duration';
import { ALERTS_TOPIC_TARGET, ANNOTATION, API_VERSION, METRIC_SOURCE_TYPE, type Doc } from './model';

// `tracklane slo export -t FILE --format openslo`: the topology's SLOs as OpenSLO v1 documents.
//
//   SLI          ratio -> ratioMetric {good, total}; latency -> thresholdMetric {field, filter}
//                (metricSource type `tracklane`, spec = the CEL / field, groupBy, maxSeries)
//   SLO          indicatorRef, budgetingMethod Occurrences, rolling timeWindow, objectives
//                [{target}] (latency: {op: lte, value: threshold, target}), alertPolicies
//   AlertPolicy  one per burn-rate tier, with its one inline AlertCondition (kind burnrate,
//                op gt, threshold, lookbackWindow = the long window); the short window has no
//                OpenSLO field and goes into the tracklane/short-window annotation
//   AlertNotificationTarget  the topology's alerts topic
//
// Only SLIs an SLO uses are written (OpenSLO has no SLI without an objective).

export interface OpenSloExport { yaml: string; docs: Doc[]; notes: string[] }

const DEFAULT_MAX_SERIES = 100;

function doc(kind: string, metadata: Doc['metadata'], spec: Record<string, unknown>): Doc {
  return { apiVersion: API_VERSION, kind, metadata, spec };
}

function sliDoc(sli: SliSpec, topology: string): Doc {
  const series: Record<string, unknown> = {};
  if (sli.groupBy.length > 0) series.groupBy = sli.groupBy;
  if (sli.maxSeries !== DEFAULT_MAX_SERIES) series.maxSeries = sli.maxSeries;
  const source = (spec: Record<string, unknown>) => ({ metricSource: { type: METRIC_SOURCE_TYPE, spec } });
  if (sli.kind === 'ratio') {
    return doc('SLI', { name: sli.name }, {
      description: `Tracklane ratio SLI of topology ${topology}: events where total holds, good where good holds too (CEL)`,
      ratioMetric: { counter: true, good: source({ expression: sli.good }), total: source({ expression: sli.total, ...series }) },
    });
  }
  if (sli.kind === 'builtin') {
    // No expression to export: the built-in's name and options are the metric source's spec.
    const { type, ...options } = sli.builtin;
    const description = `Tracklane built-in SLI ${type} of topology ${topology}: ${BUILTIN_DEFINITIONS[type]}`;
    const spec = source({ builtin: type, ...options, ...series });
    return doc('SLI', { name: sli.name }, type === 'delivery-latency' ? { description, thresholdMetric: spec } : { description, ratioMetric: { counter: true, good: spec, total: spec } });
  }
  return doc('SLI', { name: sli.name }, {
    description: `Tracklane latency SLI of topology ${topology}: the value of ${sli.field} per event${sli.filter ? ' where filter holds (CEL)' : ''}`,
    thresholdMetric: source({ field: sli.field, ...(sli.filter !== undefined ? { filter: sli.filter } : {}), ...series }),
  });
}

/** RFC 1123 label for a tier's policy: `<slo>-1h-5m`. */
function policyName(slo: string, tier: string): string {
  const slug = tier.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return `${slo}-${slug}`.slice(0, 63).replace(/-+$/, '');
}

function policyDoc(slo: SloSpec, tier: BurnRateTier, target: string): Doc {
  const name = policyName(slo.name, tier.name);
  const long = toShorthand(tier.longWindowMs);
  const annotations: Record<string, string> = { [ANNOTATION.tier]: tier.name, [ANNOTATION.shortWindow]: formatDuration(tier.shortWindowMs) };
  if (!long.exact) annotations[ANNOTATION.longWindow] = formatDuration(tier.longWindowMs);
  return doc('AlertPolicy', { name, displayName: `${slo.name} ${tier.name} (${tier.severity})` }, {
    description: `${tier.severity} when the burn rate is above ${tier.threshold} over ${formatDuration(tier.longWindowMs)} and ${formatDuration(tier.shortWindowMs)}`,
    alertWhenNoData: false,
    alertWhenBreaching: true,
    alertWhenResolved: true,
    conditions: [{
      kind: 'AlertCondition',
      metadata: { name, annotations },
      spec: {
        severity: tier.severity,
        condition: { kind: 'burnrate', op: 'gt', threshold: tier.threshold, lookbackWindow: long.text, alertAfter: '0m' },
      },
    }],
    notificationTargets: [{ targetRef: target }],
  });
}

function sloDoc(slo: SloSpec, sli: SliSpec, topology: string, policies: string[]): Doc {
  const period = toShorthand(slo.periodMs);
  const annotations: Record<string, string> = { [ANNOTATION.minEvents]: String(slo.minEvents) };
  if (slo.runbook !== undefined) annotations[ANNOTATION.runbook] = slo.runbook;
  if (!period.exact) annotations[ANNOTATION.period] = formatDuration(slo.periodMs);
  const latency = sli.kind === 'latency' ? { field: sli.field, threshold: sli.threshold }
    : sli.kind === 'builtin' && sli.builtin.type === 'delivery-latency' ? { field: 'delivery_latency_ms', threshold: sli.builtin.thresholdMs } : undefined;
  const objective: Record<string, unknown> = latency
    ? { displayName: `${latency.field} <= ${latency.threshold}`, op: 'lte', value: latency.threshold, target: slo.objective }
    : { target: slo.objective };
  return doc('SLO', { name: slo.name, annotations }, {
    description: `Tracklane SLO of topology ${topology}`,
    service: topology,
    indicatorRef: sli.name,
    budgetingMethod: 'Occurrences',
    timeWindow: [{ duration: period.text, isRolling: true }],
    objectives: [objective],
    alertPolicies: policies.map((alertPolicyRef) => ({ alertPolicyRef })),
  });
}

export function exportOpenSlo(t: Topology): OpenSloExport {
  const notes: string[] = [];
  const target = `${t.name}-alerts`;
  const slis = new Map(t.slis.map((s) => [s.name, s]));
  const used = [...new Set(t.slos.map((s) => s.sli))];
  const docs: Doc[] = used.map((n) => sliDoc(slis.get(n)!, t.name));
  for (const s of t.slis) if (!used.includes(s.name)) notes.push(`SLI ${s.name}: no SLO uses it; OpenSLO has no SLI without an objective, left out`);
  const policies: Doc[] = [];
  for (const slo of t.slos) {
    const own = slo.tiers.map((tier) => policyDoc(slo, tier, target));
    policies.push(...own);
    docs.push(sloDoc(slo, slis.get(slo.sli)!, t.name, own.map((p) => p.metadata.name)));
    if (!toShorthand(slo.periodMs).exact) notes.push(`SLO ${slo.name}: period ${formatDuration(slo.periodMs)} is not whole minutes; timeWindow is rounded, tracklane/period keeps it`);
  }
  docs.push(...policies);
  if (policies.length > 0) {
    docs.push(doc('AlertNotificationTarget', { name: target }, {
      description: `Tracklane publishes each transition to the Kafka topic ${t.outputs.alerts?.topic ?? '(outputs.alerts)'}; \`tracklane alerts forward\` delivers them to Alertmanager or PagerDuty`,
      target: ALERTS_TOPIC_TARGET,
    }));
  }
  const yaml = docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
  return { yaml, docs, notes };
}

import { stringify } from 'yaml';
import { formatDuration } from '../topology/duration';
import type { SloSpec, Topology } from '../topology/types';
import { NO_DATA_TIER } from './alert-state';

// Prometheus rules for a topology's SLOs, Sloth style, from the engine's counters
// tracklane_sli_events_total / tracklane_sli_good_total (labels topology, sli, groupBy):
// - recording rules: error ratio per tier window, always as a ratio of sums (rates over the
//   same window), and over the SLO period from 5m rates summed over the period, never as an
//   average of ratios; plus the error budget remaining;
// - alerting rules: one per tier, firing when the long and the short window both exceed
//   threshold x (1 - objective) and the long window holds at least minEvents events; and a
//   no-data rule.
// These run on Prometheus' clock (processing time) while the engine alerts in event time:
// they agree when events arrive promptly and are a second opinion that survives the engine.

const BASE_WINDOW_MS = 5 * 60_000;

type Rule = Record<string, unknown>;

export function prometheusRules(topology: Pick<Topology, 'name' | 'slis' | 'slos'>): string {
  const groups = topology.slos.flatMap((slo) => sloGroups(topology, slo));
  return stringify({ groups }, { lineWidth: 0, aliasDuplicateObjects: false });
}

function sloGroups(topology: Pick<Topology, 'name' | 'slis'>, slo: SloSpec): Array<{ name: string; rules: Rule[] }> {
  const sli = topology.slis.find((s) => s.name === slo.sli);
  const groupBy = sli?.groupBy ?? [];
  const by = groupBy.length > 0 ? ` by (${groupBy.join(', ')})` : '';
  const on = `on(${groupBy.join(', ')})`;
  const sel = `{topology="${esc(topology.name)}", sli="${esc(slo.sli)}"}`;
  const recSel = `{topology="${esc(topology.name)}", slo="${esc(slo.name)}"}`;
  const labels = { topology: topology.name, sli: slo.sli, slo: slo.name };
  const budget = num(1 - slo.objective);
  const period = formatDuration(slo.periodMs);
  const ratioName = (w: string) => `tracklane_slo:sli_error:ratio_rate${w}`;

  const windows = [...new Set(slo.tiers.flatMap((t) => [t.longWindowMs, t.shortWindowMs]))]
    .filter((ms) => ms !== slo.periodMs)
    .sort((a, b) => a - b);
  const recording: Rule[] = windows.map((ms) => {
    const w = formatDuration(ms);
    return {
      record: ratioName(w),
      expr: ratioOfRates(sel, by, w),
      labels: { ...labels, window: w },
    };
  });
  const base = formatDuration(BASE_WINDOW_MS);
  recording.push(
    { record: `tracklane_slo:sli_events:rate${base}`, expr: `sum${by} (rate(tracklane_sli_events_total${sel}[${base}]))`, labels },
    {
      record: `tracklane_slo:sli_bad:rate${base}`,
      expr: `sum${by} (rate(tracklane_sli_events_total${sel}[${base}]))\n-\nsum${by} (rate(tracklane_sli_good_total${sel}[${base}]))`,
      labels,
    },
    {
      record: ratioName(period),
      expr: `sum_over_time(tracklane_slo:sli_bad:rate${base}${recSel}[${period}])\n/\nsum_over_time(tracklane_slo:sli_events:rate${base}${recSel}[${period}])`,
      labels: { ...labels, window: period },
    },
    {
      record: 'tracklane_slo:error_budget_remaining:ratio',
      expr: `1 - (max without (window) (${ratioName(period)}${recSel}) / ${budget})`,
      labels,
    },
  );

  const alerts: Rule[] = slo.tiers.map((tier) => {
    const long = formatDuration(tier.longWindowMs);
    const short = formatDuration(tier.shortWindowMs);
    const limit = `(${num(tier.threshold)} * ${budget})`;
    const expr = [
      '(',
      `  max without (window) (${ratioName(long)}${recSel} > ${limit})`,
      'and',
      `  max without (window) (${ratioName(short)}${recSel} > ${limit})`,
      ')',
      `and ${on}`,
      `(sum${by} (increase(tracklane_sli_events_total${sel}[${long}])) >= ${slo.minEvents})`,
    ].join('\n');
    return {
      alert: tier.severity === 'page' ? 'TracklaneSloBurnRatePage' : 'TracklaneSloBurnRateTicket',
      expr,
      labels: { ...labels, severity: tier.severity, tier: tier.name },
      annotations: annotations(
        slo,
        `${slo.name}: error budget burn rate above ${num(tier.threshold)}x over ${long} and ${short}`,
      ),
    };
  });
  const shortest = slo.tiers.length > 0 ? Math.min(...slo.tiers.map((t) => t.longWindowMs)) : null;
  if (shortest !== null) {
    const w = formatDuration(shortest);
    alerts.push({
      alert: 'TracklaneSloNoData',
      expr: `(sum(increase(tracklane_sli_events_total${sel}[${w}])) or on() vector(0)) == 0`,
      labels: { ...labels, severity: 'ticket', tier: NO_DATA_TIER },
      annotations: annotations(slo, `${slo.name}: no events for SLI ${slo.sli} in the last ${w}`),
    });
  }

  const id = `tracklane-${topology.name}-${slo.name}`;
  return [
    { name: `${id}-sli-recordings`, rules: recording },
    { name: `${id}-alerts`, rules: alerts },
  ];
}

function ratioOfRates(sel: string, by: string, w: string): string {
  return [
    `(sum${by} (rate(tracklane_sli_events_total${sel}[${w}])) - sum${by} (rate(tracklane_sli_good_total${sel}[${w}])))`,
    '/',
    `sum${by} (rate(tracklane_sli_events_total${sel}[${w}]))`,
  ].join('\n');
}

function annotations(slo: SloSpec, summary: string): Record<string, string> {
  return {
    summary,
    description: `objective ${num(slo.objective * 100)}% over ${formatDuration(slo.periodMs)}`,
    ...(slo.runbook ? { runbook_url: slo.runbook } : {}),
  };
}

/** Shortest decimal that round-trips at 12 significant digits: 1 - 0.999 -> 0.001. */
function num(x: number): string {
  return String(Number(x.toPrecision(12)));
}

function esc(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

import { NO_DATA_TIER } from '../../topology/tiers';
import { CLIENT_SCRIPT } from './client-script';
import type { SloInfo, StatusDocument } from './document';
import { DASH, formatBudget, formatBurn, formatCount, formatObjective, formatRate, formatRatio, formatThreshold } from './format';
import type { SloReading } from './history';

// The status page at "/": server-rendered from the latest sample, so it reads without
// JavaScript; the script then draws the charts and refreshes from /status.json.

const esc = (s: string | number): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON inside <script>: no "</script>" or "<!--" can end the element early. */
const scriptJson = (v: unknown): string =>
  JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

export type SloState = 'page' | 'ticket' | 'ok' | 'nodata';

export function sloState(slo: SloInfo, r: SloReading | undefined): SloState {
  if (!r) return 'nodata';
  const sev = new Map(slo.tiers.map((t) => [t.name, t.severity]));
  const firing = Object.entries(r.firing).filter(([, v]) => v === 1).map(([tier]) => sev.get(tier) ?? 'ticket');
  if (firing.includes('page')) return 'page';
  if (firing.length) return 'ticket';
  return r.sliRatio === null && r.budgetRemaining === null ? 'nodata' : 'ok';
}

export const STATE_LABEL: Record<SloState, string> = { page: 'Paging', ticket: 'Ticket open', ok: 'Healthy', nodata: 'No data' };

function field(kind: string, attrs: Record<string, string>, text: string, cls = ''): string {
  const data = Object.entries(attrs).map(([k, v]) => ` data-${k}="${esc(v)}"`).join('');
  return `<span class="${esc(cls)}" data-field="${esc(kind)}"${data}>${esc(text)}</span>`;
}

function card(label: string, key: string, value: number | undefined, rate: number | null | undefined, cls = ''): string {
  return `<div class="card ${cls}"><div class="card-label">${esc(label)}</div>`
    + `<div class="card-value">${field('count', { key }, formatCount(value))}</div>`
    + `<div class="card-rate">${rate === undefined ? '&nbsp;' : field('rate', { key }, formatRate(rate))}</div></div>`;
}

function budgetBar(b: number | null | undefined): string {
  const w = b === null || b === undefined ? 0 : Math.max(0, Math.min(1, b)) * 100;
  return `${w.toFixed(1)}%`;
}

export function budgetClass(b: number | null | undefined): string {
  if (b === null || b === undefined) return 'muted';
  return b <= 0 ? 'bad' : b < 0.25 ? 'warn' : 'good';
}

function sloRow(slo: SloInfo, r: SloReading | undefined, color: string): string {
  const state = sloState(slo, r);
  const tierRows = slo.tiers.map((t) => {
    const firing = r?.firing[t.name];
    return `<tr><td class="tier-name">${esc(t.name)}</td><td><span class="sev sev-${esc(t.severity)}">${esc(t.severity)}</span></td>`
      + `<td class="num"><span class="win">${esc(t.long)}</span> ${field('burn', { slo: slo.name, window: t.long }, formatBurn(r?.burnRates[t.long]))}</td>`
      + `<td class="num"><span class="win">${esc(t.short)}</span> ${field('burn', { slo: slo.name, window: t.short }, formatBurn(r?.burnRates[t.short]))}</td>`
      + `<td class="num muted">${esc(formatThreshold(t.threshold))}</td>`
      + `<td>${field('firing', { slo: slo.name, tier: t.name, severity: t.severity }, firing === undefined ? DASH : firing ? 'firing' : 'ok', firing === undefined ? 'pill pill-none' : firing ? `pill pill-${t.severity}` : 'pill pill-ok')}</td></tr>`;
  }).join('');
  const tiers = slo.tiers.length
    ? `<table class="tiers"><thead><tr><th>tier</th><th>severity</th><th class="num">burn (long)</th><th class="num">burn (short)</th><th class="num">threshold</th><th>alert</th></tr></thead><tbody>${tierRows}</tbody></table>`
    : '<span class="muted">alerting off</span>';
  const noData = r?.firing[NO_DATA_TIER];
  const b = r?.budgetRemaining;
  return `<tr data-slo="${esc(slo.name)}">
<td class="slo-cell"><div class="slo-name"><span class="swatch" style="background:${esc(color)}"></span>${esc(slo.name)}</div>
<div class="muted small">SLI ${esc(slo.sli)} (${esc(slo.sliKind)}) &middot; ${esc(slo.period)} period</div>
<div class="slo-state">${field('state', { slo: slo.name }, STATE_LABEL[state], `state state-${state}`)}${field('nodata', { slo: slo.name }, 'no traffic', `pill pill-ticket${noData ? '' : ' hidden'}`)}</div></td>
<td class="num big">${esc(formatObjective(slo.objective))}</td>
<td class="num big">${field('ratio', { slo: slo.name }, formatRatio(r?.sliRatio), r && r.sliRatio !== null && r.sliRatio < slo.objective ? 'bad' : '')}</td>
<td><div class="budget">${field('budget', { slo: slo.name }, formatBudget(b), `num big ${budgetClass(b)}`)}<div class="bar"><span class="bar-fill ${budgetClass(b)}" data-field="budget-bar" data-slo="${esc(slo.name)}" style="width:${budgetBar(b)}"></span></div></div></td>
<td>${tiers}</td>
</tr>`;
}

/** What the lines of each chart are, under the chart next to uPlot's legend of line names. */
export const CHART_NOTES = {
  sliRatio: 'One line per SLO: good &divide; valid events of its SLI in the last closed window. The axis ends at 100%, the most a ratio can be.',
  budget: 'One line per SLO: the share of its error budget left over the rolling period; below 0% the budget is spent.',
  burn: 'One line per window, light (short) to dark (long): how fast the budget burns, 1&times; spends it exactly over the period. Dashed: the tiers&rsquo; thresholds.',
  throughput: 'Events per second consumed from the sources, enriched, and dead-lettered.',
};

function chartPanel(id: string, title: string, subtitle: string, note: string): string {
  return `<figure class="panel"><figcaption>${title} <span class="muted">${esc(subtitle)}</span></figcaption><div class="chart" id="${esc(id)}"></div><p class="chart-note muted small">${note}</p></figure>`;
}

export const PALETTE = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626'];

export function renderStatusPage(doc: StatusDocument): string {
  const t = doc.topology;
  const latest = doc.latest;
  const p = latest?.pipeline;
  const rows = doc.slos.map((s, i) => sloRow(s, latest?.slos[s.name], PALETTE[i % PALETTE.length])).join('\n');
  const burnCharts = doc.slos.filter((s) => s.windows.length).map((s) =>
    chartPanel(`chart-burn-${s.name}`, `Burn rate &middot; ${esc(s.name)}`, 'by window', CHART_NOTES.burn)).join('\n');
  const hasSlos = doc.slos.length > 0;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tracklane &middot; ${esc(t.name)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/uPlot.min.css">
<style>${CSS}</style>
</head>
<body>
<header class="top">
  <div>
    <h1><span class="brand">Tracklane</span> <span class="sep">/</span> ${esc(t.name)}</h1>
    <div class="muted small">topology v${esc(t.version)} &middot; ${esc(t.delivery)} &middot; reads ${t.sources.map((s) => `<code>${esc(s)}</code>`).join(', ')}</div>
  </div>
  <div class="updated small muted">${field('updated', {}, latest ? `sampled ${new Date(latest.at).toISOString().slice(11, 19)} UTC` : 'no sample yet')}<br>every ${esc(doc.sampleIntervalMs / 1000)} s &middot; keeps ${esc(Math.round((doc.capacity * doc.sampleIntervalMs) / 60_000))} min</div>
</header>
<main>
<section class="cards" aria-label="Pipeline counters">
${card('Consumed', 'consumed', p?.consumed, doc.rates.consumed)}
${card('Enriched', 'enriched', p?.enriched, doc.rates.enriched)}
${card('Dead-lettered', 'deadLettered', p?.deadLettered, doc.rates.deadLettered, p && p.deadLettered > 0 ? 'card-warn' : '')}
${card('Duplicates', 'duplicates', p?.duplicates, undefined)}
${card('Consent dropped', 'consentDropped', p?.consentDropped, undefined)}
</section>
<section class="panel">
<h2>Service level objectives</h2>
${hasSlos ? `<table class="slos">
<thead><tr><th>SLO</th><th class="num">objective</th><th class="num">SLI ratio<div class="muted small">last window</div></th><th>error budget left</th><th>burn rate and alerts per tier</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>` : '<p class="muted">This topology defines no SLOs (spec.slos).</p>'}
</section>
<section class="charts">
${hasSlos ? `${chartPanel('chart-sli-ratio', 'SLI ratio', 'last closed window, worst label set', CHART_NOTES.sliRatio)}
${chartPanel('chart-budget', 'Error budget left', 'over the rolling period', CHART_NOTES.budget)}
${burnCharts}` : ''}
${chartPanel('chart-throughput', 'Throughput', 'events per second', CHART_NOTES.throughput)}
</section>
</main>
<script id="status-data" type="application/json">${scriptJson(doc)}</script>
<script src="/assets/uPlot.iife.min.js"></script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

const CSS = `
:root { --bg:#f5f6f8; --panel:#fff; --line:#e3e6eb; --text:#1f2937; --muted:#6b7280;
  --good:#15803d; --warn:#b45309; --bad:#b91c1c; --page:#dc2626; --ticket:#d97706; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text);
  font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
code { font:12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background:#eef0f3; padding:1px 4px; border-radius:4px; }
.top { display:flex; justify-content:space-between; align-items:flex-end; gap:16px;
  padding:18px 28px 14px; background:var(--panel); border-bottom:1px solid var(--line); }
h1 { margin:0 0 2px; font-size:20px; font-weight:600; }
h1 .brand { color:#2563eb; } h1 .sep { color:#c3c8d0; font-weight:400; }
h2 { margin:0 0 12px; font-size:15px; font-weight:600; }
main { padding:20px 28px 32px; max-width:1480px; margin:0 auto; }
.muted { color:var(--muted); } .small { font-size:12px; } .hidden { display:none !important; }
.updated { text-align:right; }
.cards { display:grid; grid-template-columns:repeat(5, minmax(0, 1fr)); gap:12px; margin-bottom:16px; }
.card { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 16px; }
.card-label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card-value { font-size:24px; font-weight:600; font-variant-numeric:tabular-nums; }
.card-rate { color:var(--muted); font-size:12px; font-variant-numeric:tabular-nums; }
.card-warn .card-value { color:var(--warn); }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:16px 18px; margin:0 0 16px; }
table { border-collapse:collapse; width:100%; }
th { text-align:left; font-weight:500; color:var(--muted); font-size:12px; }
.slos > thead > tr > th { padding:0 12px 8px; border-bottom:1px solid var(--line); vertical-align:bottom; }
.slos > tbody > tr > td { padding:14px 12px; border-bottom:1px solid var(--line); vertical-align:top; }
.slos > tbody > tr:last-child > td { border-bottom:0; }
.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.big { font-size:16px; font-weight:600; }
.slo-name { font-weight:600; font-size:15px; display:flex; align-items:center; gap:8px; }
.swatch { width:10px; height:10px; border-radius:2px; display:inline-block; }
.slo-state { margin-top:6px; display:flex; gap:6px; }
.state { font-size:12px; font-weight:600; padding:2px 8px; border-radius:10px; }
.state-ok { background:#dcfce7; color:var(--good); } .state-page { background:#fee2e2; color:var(--page); }
.state-ticket { background:#fef3c7; color:var(--warn); } .state-nodata { background:#eef0f3; color:var(--muted); }
.good { color:var(--good); } .warn { color:var(--warn); } .bad { color:var(--bad); }
.budget { min-width:150px; } .budget .num { display:block; text-align:left; }
.bar { height:6px; background:#eef0f3; border-radius:3px; margin-top:6px; overflow:hidden; }
.bar-fill { display:block; height:100%; border-radius:3px; background:var(--good); }
.bar-fill.warn { background:var(--ticket); } .bar-fill.bad, .bar-fill.muted { background:transparent; }
.tiers th { padding:0 8px 4px; } .tiers td { padding:3px 8px; border-top:1px solid #f0f1f4; }
.tiers th.num { text-align:right; }
.tier-name { font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:12px; }
.win { color:var(--muted); font-size:12px; margin-right:4px; }
.sev { font-size:12px; } .sev-page { color:var(--page); } .sev-ticket { color:var(--ticket); }
.pill { display:inline-block; min-width:52px; text-align:center; font-size:12px; font-weight:600; padding:1px 8px; border-radius:10px; }
.pill-ok { background:#dcfce7; color:var(--good); } .pill-none { background:#eef0f3; color:var(--muted); }
.pill-page { background:var(--page); color:#fff; } .pill-ticket { background:var(--ticket); color:#fff; }
.charts { display:grid; grid-template-columns:repeat(2, minmax(0, 1fr)); gap:16px; }
.charts .panel { margin:0; min-width:0; }
.charts .panel:last-child:nth-child(odd) { grid-column:1 / -1; }
figcaption { font-weight:600; margin-bottom:8px; } figcaption .muted { font-weight:400; font-size:12px; margin-left:6px; }
.chart { width:100%; min-height:230px; }
.chart-note { margin:6px 0 0; }
.uplot { font-family:inherit; } .u-legend { font-size:12px; }
@media (max-width: 1000px) { .charts { grid-template-columns:1fr; } .cards { grid-template-columns:repeat(2, minmax(0, 1fr)); } }
`;

// A two-panel SVG, written by hand: events/s per second of each run (top) and latency
// percentiles per run on a log scale (bottom).
import type { RunResult } from './engine-run';
import type { BenchReport } from './run';
import { TARGETS } from './run';

type Attrs = Record<string, string | number>;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
function el(tag: string, attrs: Attrs, body = ''): string {
  const a = Object.entries(attrs).map(([k, v]) => ` ${k}="${esc(String(v))}"`).join('');
  return body ? `<${tag}${a}>${body}</${tag}>` : `<${tag}${a}/>`;
}
const text = (x: number, y: number, s: string, attrs: Attrs = {}) => el('text', { x, y, ...attrs }, esc(s));

/** 1, 2, 5 x 10^k steps giving about `count` ticks up to `max`. */
function niceTicks(max: number, count = 5): number[] {
  if (max <= 0) return [0];
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + step / 2; v += step) out.push(v);
  return out;
}
const short = (v: number) => (v >= 1e6 ? `${+(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${+(v / 1e3).toFixed(1)}k` : `${+v.toFixed(1)}`);

const COLORS: Record<string, [string, string]> = { 'at-least-once': ['#1f77b4', '#9ecae1'], 'exactly-once': ['#d62728', '#fc9272'] };

interface Series { name: string; points: number[]; color: string; dash?: string }

function throughputPanel(series: Series[], x0: number, y0: number, w: number, h: number): string {
  const maxT = Math.max(1, ...series.map((s) => s.points.length));
  const maxV = Math.max(1, ...series.flatMap((s) => s.points));
  const yTicks = niceTicks(maxV);
  const top = yTicks[yTicks.length - 1];
  const sx = (t: number) => x0 + (t / maxT) * w;
  const sy = (v: number) => y0 + h - (v / top) * h;
  let out = text(x0, y0 - 12, 'Throughput: events finished per second of each run', { 'font-weight': 'bold' });
  for (const v of yTicks) {
    out += el('line', { x1: x0, x2: x0 + w, y1: sy(v), y2: sy(v), stroke: '#eee' });
    out += text(x0 - 6, sy(v) + 4, short(v), { 'text-anchor': 'end' });
  }
  for (const t of niceTicks(maxT, 8)) out += text(sx(t), y0 + h + 16, `${t}s`, { 'text-anchor': 'middle' });
  out += el('rect', { x: x0, y: y0, width: w, height: h, fill: 'none', stroke: '#999' });
  series.forEach((s, i) => {
    // Each value covers second [t, t+1): drawn at its middle.
    const d = s.points.map((v, t) => `${t ? 'L' : 'M'}${sx(t + 0.5).toFixed(1)},${sy(v).toFixed(1)}`).join(' ');
    if (d) out += el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, ...(s.dash ? { 'stroke-dasharray': s.dash } : {}) });
    const ly = y0 + 14 + i * 16;
    out += el('line', { x1: x0 + w - 250, x2: x0 + w - 226, y1: ly - 4, y2: ly - 4, stroke: s.color, 'stroke-width': 2, ...(s.dash ? { 'stroke-dasharray': s.dash } : {}) });
    out += text(x0 + w - 220, ly, s.name);
  });
  return out;
}

function latencyPanel(runs: { name: string; run?: RunResult; color: string }[], x0: number, y0: number, w: number, h: number): string {
  const present = runs.filter((r) => r.run?.latencyMs.samples);
  let out = text(x0, y0 - 12, 'Latency p50 / p95 / p99 (ms, log scale; input -> output record timestamp)', { 'font-weight': 'bold' });
  if (!present.length) return out;
  const maxV = Math.max(TARGETS.p99AtHalfRateMs * 2, ...present.map((r) => r.run!.latencyMs.p99 ?? 0));
  const decades = Math.ceil(Math.log10(maxV));
  const sy = (v: number) => y0 + h - (Math.log10(Math.max(1, v)) / decades) * h;
  for (let d = 0; d <= decades; d++) {
    out += el('line', { x1: x0, x2: x0 + w, y1: sy(10 ** d), y2: sy(10 ** d), stroke: '#eee' });
    out += text(x0 - 6, sy(10 ** d) + 4, short(10 ** d), { 'text-anchor': 'end' });
  }
  out += el('line', { x1: x0, x2: x0 + w, y1: sy(TARGETS.p99AtHalfRateMs), y2: sy(TARGETS.p99AtHalfRateMs), stroke: '#2ca02c', 'stroke-dasharray': '6 3' });
  out += text(x0 + w, y0 - 12, `dashed: p99 target at half rate, ${TARGETS.p99AtHalfRateMs} ms`, { 'text-anchor': 'end', fill: '#2ca02c' });
  const group = w / present.length;
  const bw = Math.min(22, (group - 16) / 3);
  present.forEach((r, i) => {
    const l = r.run!.latencyMs;
    const gx = x0 + i * group + (group - 3 * bw) / 2;
    ([['p50', l.p50, 0.45], ['p95', l.p95, 0.7], ['p99', l.p99, 1]] as const).forEach(([p, v, opacity], k) => {
      if (v === undefined) return;
      out += el('rect', { x: gx + k * bw, y: sy(v), width: bw - 2, height: y0 + h - sy(v), fill: r.color, 'fill-opacity': opacity }, el('title', {}, esc(`${r.name} ${p}: ${v} ms`)));
      // Only p99 is labelled: three labels side by side overlap.
      if (p === 'p99') out += text(gx + k * bw + bw / 2 - 1, sy(v) - 3, short(v), { 'text-anchor': 'middle', 'font-size': 10 });
    });
    r.name.split('\n').forEach((line, j) => (out += text(x0 + i * group + group / 2, y0 + h + 16 + j * 13, line, { 'text-anchor': 'middle' })));
  });
  out += el('rect', { x: x0, y: y0, width: w, height: h, fill: 'none', stroke: '#999' });
  return out;
}

export function renderChart(r: BenchReport): string {
  const W = 980;
  const series: Series[] = [];
  const bars: { name: string; run?: RunResult; color: string }[] = [];
  for (const m of r.modes) {
    const [strong, light] = COLORS[m.delivery];
    series.push({ name: `engine ${m.delivery}`, points: m.engine.timeline, color: strong });
    if (m.passThrough[0]) series.push({ name: `kafkajs pass-through ${m.delivery}`, points: m.passThrough[0].timeline, color: light, dash: '6 4' });
    if (m.engineHalf) series.push({ name: `engine ${m.delivery} at half rate`, points: m.engineHalf.timeline, color: strong, dash: '2 3' });
    bars.push(
      { name: `engine ${m.delivery}\nbacklog`, run: m.engine, color: strong },
      { name: `pass-through\nbacklog`, run: m.passThrough[0], color: light },
      { name: `engine ${m.delivery}\n@${m.engineHalf?.paced?.rate ?? '-'}/s`, run: m.engineHalf, color: strong },
      { name: `pass-through\n@${m.passThroughHalf?.paced?.rate ?? '-'}/s`, run: m.passThroughHalf, color: light },
    );
  }
  const title = `tracklane bench ${r.at}: ${r.options.events.toLocaleString('en-US')} events, ${r.options.partitions} partitions, ${r.machine.cpus} CPUs`;
  const body =
    text(20, 24, title, { 'font-size': 14, 'font-weight': 'bold' }) +
    throughputPanel(series, 70, 60, W - 100, 260) +
    latencyPanel(bars, 70, 380, W - 100, 240);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="680" viewBox="0 0 ${W} 680" font-family="sans-serif" font-size="11">` +
    el('rect', { width: '100%', height: '100%', fill: 'white' }) + body + '</svg>\n';
}

// The figures as a table for stdout, and the files a run leaves in --out.
import fs from 'node:fs';
import path from 'node:path';
import { renderChart } from './chart';
import type { Latency } from './engine-run';
import type { BenchReport, ModeReport } from './run';

const n = (x?: number, digits = 0) => (x === undefined || Number.isNaN(x) ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const x = (r?: number) => (r === undefined ? '-' : `${r.toFixed(2)}x`);
const lat = (l?: Latency) => (l && l.samples ? `${n(l.p50)} / ${n(l.p95)} / ${n(l.p99)}` : '-');
const verdict = (met?: boolean) => (met === undefined ? '' : met ? 'met' : 'MISSED');

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()).join('\n');
}

function modeRows(m: ModeReport, r: BenchReport): string[][] {
  const e = m.engine;
  const pts = m.passThrough;
  const ptLat = pts[0]?.latencyMs;
  const t = m.targets;
  const rows: string[][] = [
    [`${m.delivery}`, 'engine', 'baseline', 'ratio', 'target'],
    ['throughput, events/s', n(e.eventsPerSecond), `${n(m.passThroughEventsPerSecond)} pt`, x(m.ratios.throughputVsPassThrough), `${t.throughputVsPassThrough?.target ?? ''} ${verdict(t.throughputVsPassThrough?.met)}`],
    ['  vs Kafka ConsumerPerformance', '', n(r.javaConsumer?.fetchRecordsPerSecond), x(m.ratios.throughputVsJavaConsumer), ''],
    ['  vs Kafka ProducerPerformance', '', n(r.produce.javaProducer?.recordsPerSecond), x(m.ratios.throughputVsJavaProducer), ''],
    // The two backlog runs start at different times after the input was produced: no ratio.
    ['latency p50/p95/p99 ms, backlog*', lat(e.latencyMs), lat(ptLat), '', ''],
    [
      `latency p50/p95/p99 ms, @${n(m.engineHalf?.paced?.rate)}/s`,
      lat(m.engineHalf?.latencyMs), lat(m.passThroughHalf?.latencyMs), x(m.ratios.p99HalfVsPassThrough),
      `p99 ${t.p99AtHalfRateMs?.target ?? ''} ${verdict(t.p99AtHalfRateMs?.met)}`,
    ],
    ['CPU ms per 1,000 events', n(e.cpuMsPer1kEvents, 1), n(avgOf(pts.map((p) => p.cpuMsPer1kEvents)), 1), x(m.ratios.cpuVsPassThrough), ''],
    ['peak RSS, MB', n(e.peakRssMb), n(Math.max(0, ...pts.map((p) => p.peakRssMb))), x(m.ratios.peakRssVsPassThrough), `${t.peakRssMb?.target ?? ''} ${verdict(t.peakRssMb?.met)}`],
    ['Redis round trips / batch', n(e.redis.roundTripsPerBatch, 2), `${e.redis.floorPerBatch} (1/stateful part)`, x(e.redis.roundTripsPerBatch / e.redis.floorPerBatch), ''],
    ['Redis server commands / batch', n(e.redis.serverCommandsPerBatch), `${n(e.redis.batches)} batches`, '', ''],
    ['Redis server CPU ms / batch', n(e.redis.serverMsPerBatch, 1), '', '', ''],
  ];
  return rows;
}

function avgOf(xs: number[]): number | undefined {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
}

export function formatReport(r: BenchReport): string {
  const o = r.options;
  const lines = [
    `tracklane bench: ${n(o.events)} events (~${r.workload.avgValueBytes} B Avro), ${o.partitions} partitions, ` +
      `${(o.duplicates * 100).toFixed(1)}% duplicates, ${(o.bad * 100).toFixed(1)}% bad, chunk ${o.chunkSize}; ${r.machine.cpus} CPUs, load ${r.machine.loadBefore.join(' ')} -> ${r.machine.loadAfter?.join(' ') ?? '?'}`,
    `produce (kafkajs, idempotent, acks=all): ${n(r.produce.kafkajsEventsPerSecond)} events/s; ` +
      (r.produce.javaProducer ? `Kafka ProducerPerformance ${n(r.produce.javaProducer.recordsPerSecond)} records/s (kafkajs ${x(r.produce.ratioKafkajsToJava)}); ` : '') +
      (r.javaConsumer ? `ConsumerPerformance ${n(r.javaConsumer.fetchRecordsPerSecond)} records/s (fetch)` : ''),
    '',
  ];
  for (const m of r.modes) {
    lines.push(table(modeRows(m, r)));
    const spread = m.passThroughSpread !== undefined ? `pass-through samples ${m.passThrough.map((p) => n(p.eventsPerSecond)).join(' / ')} (spread ${(m.passThroughSpread * 100).toFixed(0)}%)` : '';
    const out = m.engine.outcome;
    lines.push(`  ${spread}; engine outcome: ${n(out.enriched)} enriched, ${n(out.duplicates)} duplicates, ${Object.entries(out.deadLettered).map(([k, v]) => `${n(v)} ${k}`).join(', ') || '0 dead letters'}`);
    const st = Object.entries(m.engine.stageSeconds).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ');
    lines.push(`  slowest stages (total over the run): ${st}`);
    // Engine-only runs have no pass-through in the process, so these are the engine's plus the harness's.
    if (o.engineOnly) lines.push(`  engine RSS, measured in this process (the engine runs in the bench's process): ${n(m.engine.rssBeforeMb)} MB before the run (after a GC), peak ${n(m.engine.peakRssMb)} MB`);
    lines.push('');
  }
  if (r.modes.length) {
    const ages = r.modes.map((m) => `${m.delivery} ${n(m.engine.backlogAgeSeconds, 1)} s`).join(', ');
    lines.push(`* backlog latency is queueing-dominated: the input was produced before the run (engine runs started ${ages} after it).`);
  }
  const logLines = Object.entries(r.logs ?? {}).sort((a, b) => b[1] - a[1]);
  if (logLines.length) lines.push(`log lines during the bench: ${logLines.slice(0, 4).map(([k, v]) => `${v}x ${k}`).join('; ')}`);
  if (r.cleanup.length) lines.push(`cleanup problems: ${r.cleanup.join('; ')}`);
  return lines.join('\n');
}

/** Writes <out>/<timestamp>.json and .svg; returns their paths. */
export function writeReport(r: BenchReport, outDir: string): { json: string; svg: string } {
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = r.at.replace(/[:.]/g, '-');
  const json = path.join(outDir, `${stamp}.json`);
  const svg = path.join(outDir, `${stamp}.svg`);
  fs.writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
  fs.writeFileSync(svg, renderChart(r));
  return { json, svg };
}

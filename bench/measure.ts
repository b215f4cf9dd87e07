// One harness for every in-process run (engine and kafkajs pass-through), so both are
// measured the same way: CPU time from process.cpuUsage, RSS sampled every 200 ms, and the
// count of finished events sampled with it until all are done.
import v8 from 'node:v8';
import vm from 'node:vm';
import { progressBar } from '../src/cli/progress';

let gc: (() => void) | undefined;

/**
 * Runs share one process, so what the previous one left on the heap would count as the
 * next one's memory: collect it first (global.gc without --expose-gc at start-up).
 */
export function collectGarbage(): void {
  try {
    if (!gc) {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    }
    gc();
  } catch {
    // an engine without gc exposure: RSS then includes the previous run's garbage
  }
}

export interface Sample {
  /** Seconds since the run started. */
  t: number;
  done: number;
  rssBytes: number;
}

export interface Measured {
  /** From start() until the last event was done. */
  seconds: number;
  /** User + system CPU of this process over the same span, ms. */
  cpuMs: number;
  rssBeforeBytes: number;
  peakRssBytes: number;
  samples: Sample[];
}

export class Stalled extends Error {}

export async function measure(o: {
  label: string;
  expected: number;
  start: () => Promise<void>;
  done: () => Promise<number> | number;
  /** Give up when nothing finished for this long. */
  stallMs?: number;
  signal?: AbortSignal;
}): Promise<Measured> {
  const stallMs = o.stallMs ?? 120_000;
  collectGarbage();
  const rssBeforeBytes = process.memoryUsage().rss;
  let peak = rssBeforeBytes;
  const samples: Sample[] = [];
  const bar = progressBar(o.label, o.expected);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    await o.start();
    let lastDone = -1;
    let lastChange = performance.now();
    for (;;) {
      const done = await o.done();
      const rss = process.memoryUsage().rss;
      peak = Math.max(peak, rss);
      const now = performance.now();
      samples.push({ t: (now - t0) / 1000, done, rssBytes: rss });
      bar.update(Math.min(done, o.expected));
      if (done >= o.expected) break;
      if (done !== lastDone) {
        lastDone = done;
        lastChange = now;
      } else if (now - lastChange > stallMs) {
        throw new Stalled(`${o.label}: stuck at ${done} of ${o.expected} events for ${Math.round(stallMs / 1000)} s`);
      }
      if (o.signal?.aborted) throw new Error(`${o.label}: interrupted`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    bar.stop();
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    seconds: (performance.now() - t0) / 1000,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBeforeBytes,
    peakRssBytes: peak,
    samples,
  };
}

/** Finished events per second, per whole second of the run (from the 200 ms samples). */
export function ratePerSecond(samples: Sample[]): number[] {
  const out: number[] = [];
  let prev = { t: 0, done: 0 };
  for (const s of samples) {
    const sec = Math.floor(s.t);
    // Spread the events of this interval evenly over it, so boundaries split them fairly.
    const span = s.t - prev.t;
    const n = s.done - prev.done;
    if (span > 0 && n > 0) {
      for (let a = prev.t; a < s.t; ) {
        const b = Math.min(s.t, Math.floor(a) + 1);
        const k = Math.floor(a);
        out[k] = (out[k] ?? 0) + (n * (b - a)) / span;
        a = b;
      }
    }
    out[sec] ??= 0;
    prev = s;
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.round(out[i] ?? 0);
  return out;
}

export function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export function latencySummary(values: number[]): { samples: number; p50?: number; p95?: number; p99?: number; max?: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { samples: sorted.length, p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] };
}

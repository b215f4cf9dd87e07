import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { freePort } from '../helpers/child-engine';
import path from 'node:path';
import { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Engine } from '../../src/engine';
import { initTopology } from '../../src/engine/provision';
import { formatBudget, formatBurn, formatRatio } from '../../src/observability/status/format';
import type { StatusDocument } from '../../src/observability/status';
import { keys } from '../../src/state/keys';
import { loadTopology } from '../../src/topology/load';
import { checkoutSlisYaml, encodeV2, registerVersions, writeFixture, type Fixture, type Order } from '../helpers/engine-fixture';
import { REDIS_URL, deleteKeys } from '../helpers/events';
import { deleteTopics, kafka } from '../helpers/stack-env';

// Issue 8: the engine's status page in a real (headless) Chromium. Two hours of synthetic
// checkout traffic, produced in chunks so the 5 s sampler sees the SLOs move, then the
// page: SLO rows, uPlot charts with data, a screenshot for people to look at.

const ROOT = path.resolve(__dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.join(ROOT, 'test/artifacts/status-page.png');
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const SLOS_YAML = `${checkoutSlisYaml({ allowedLateness: '2m', idleTimeout: '30s', latencyGroupBy: false })}  slos:
    - name: checkout-availability
      sli: checkout-success
      objective: 0.99
      alerting: { tiers: google-sre }
    - name: checkout-latency
      sli: checkout-latency
      objective: 0.95
      alerting: { tiers: google-sre, disable: ["3d/6h"] }
`;

const SPAN_MS = 2 * 3_600_000;
const EVENTS = 4000;
const CHUNKS = 8;
const BAD = 20; // dead letters, so the counter has something to show

/** Quiet most of the time; from the 95th minute 90 % are slow, and the 95th-110th minutes fail more. */
function order(i: number, start: number): Order {
  const ts = start + Math.floor((i * SPAN_MS) / EVENTS);
  const minute = (ts - start) / 60_000;
  const failing = minute >= 95 && minute < 110 ? i % 20 === 0 : i % 400 === 0;
  const slow = minute >= 95 ? i % 10 < 9 : i % 50 === 0;
  return {
    event_id: `ev-${i}`, ts, type: 'checkout', status: failing ? 'error' : 'ok',
    region: i % 3 === 0 ? 'us' : 'eu', duration_ms: slow ? 400 + (i % 600) : 40 + ((i * 37) % 250),
  };
}

/** Installs Chromium through the project's own script; a machine without it fails here, loudly. */
function ensureChromium(): void {
  try {
    execFileSync('bash', [path.join(ROOT, 'deploy/local/ensure-chromium.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000 });
  } catch (err) {
    throw new Error(`the status page test needs Chromium at ${CHROMIUM}, and deploy/local/ensure-chromium.sh could not install it (it runs apt-get install chromium as root): ${(err as Error).message}`);
  }
  if (!fs.existsSync(CHROMIUM)) throw new Error(`deploy/local/ensure-chromium.sh succeeded but ${CHROMIUM} is missing`);
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

describe('status page', () => {
  let f: Fixture;
  let engine: Engine | undefined;
  let browser: Browser | undefined;
  let base: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureChromium();
    f = writeFixture({ enrich: ['- correlation: { field: correlation_id, header: traceparent, generate: true }'], extra: SLOS_YAML });
    const { v2 } = await registerVersions(f.subject);
    const topology = loadTopology(f.file);
    await initTopology(topology);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    engine = new Engine({ topology, metricsPort: port, instanceId: 'status-page-test' });
    await engine.start();

    const start = Date.now() - SPAN_MS - 60_000;
    const producer = kafka().producer();
    await producer.connect();
    try {
      const per = EVENTS / CHUNKS;
      for (let c = 0; c < CHUNKS; c++) {
        const messages = [];
        for (let i = c * per; i < (c + 1) * per; i++) {
          const o = order(i, start);
          messages.push({ key: o.event_id, value: encodeV2(v2, o) });
        }
        if (c === CHUNKS - 1) {
          for (let b = 0; b < BAD; b++) messages.push({ key: `bad-${b}`, value: encodeV2(v2, { ...order(b, start), event_id: '' }) });
        }
        await producer.send({ topic: f.raw, messages });
        // Long enough for a sample or so per chunk: the charts get a history, not one step.
        await new Promise((r) => setTimeout(r, 4_000));
      }
    } finally {
      await producer.disconnect();
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });

  afterAll(async () => {
    await browser?.close();
    await engine?.stop();
    if (f) {
      await deleteTopics(f.topics);
      const redis = new Redis(REDIS_URL);
      await deleteKeys(redis, keys(f.name).prefix);
      redis.disconnect();
    }
  });

  async function statusJson(): Promise<StatusDocument> {
    const res = await fetch(`${base}/status.json`);
    expect(res.status).toBe(200);
    return (await res.json()) as StatusDocument;
  }

  it('serves /status.json with every event counted and the SLO gauges set', async () => {
    const doc = await until('all events and SLO gauges in /status.json', async () => {
      const d = await statusJson();
      const l = d.latest;
      if (!l || l.pipeline.consumed < EVENTS + BAD || l.pipeline.deadLettered < BAD) return undefined;
      const ready = d.slos.every((s) => l.slos[s.name].sliRatio !== null && l.slos[s.name].budgetRemaining !== null && Object.keys(l.slos[s.name].burnRates).length > 0);
      // Settled: the last three samples agree, so the last buckets are closed and evaluated.
      const n = d.series.at.length;
      const settled = n >= 6 && d.slos.every((s) => {
        const last = [d.series.sliRatio[s.name], d.series.budgetRemaining[s.name], ...Object.values(d.series.burnRate[s.name])].map((col) => col.slice(n - 3));
        return last.every((col) => col[0] === col[1] && col[1] === col[2]);
      });
      return ready && settled ? d : undefined;
    });
    expect(doc.slos.map((s) => s.name)).toEqual(['checkout-availability', 'checkout-latency']);
    expect(doc.latest!.pipeline.enriched).toBe(EVENTS);
    expect(doc.latest!.pipeline.deadLetteredByReason).toEqual({ MISSING_IDEMPOTENCY_KEY: BAD });
    const latency = doc.latest!.slos['checkout-latency'];
    // 90 % slow for the last 25 minutes: a burn rate near 4 over 1d and 2h, so the 1d/2h
    // ticket tier (threshold 3) fires, and the 6h/30m page tier (6) does not.
    expect(latency.firing['1d/2h']).toBe(1);
    expect(latency.budgetRemaining!).toBeLessThan(0);
    const availability = doc.latest!.slos['checkout-availability'];
    expect(availability.budgetRemaining!).toBeGreaterThan(0);
    expect(Object.values(availability.firing).every((v) => v === 0)).toBe(true);
    expect(Object.keys(doc.series.burnRate['checkout-availability']).sort()).toEqual(['1d', '1h', '2h', '30m', '3d', '5m', '6h'].sort());

    const assets = await Promise.all(['uPlot.iife.min.js', 'uPlot.min.css', 'nope.js', '..%2Fpackage.json'].map((n) => fetch(`${base}/assets/${n}`)));
    expect(assets.map((r) => r.status)).toEqual([200, 200, 404, 404]);
  });

  it('renders the SLOs and uPlot charts with data in Chromium', async () => {
    const page: Page = await browser!.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    await page.goto(`${base}/`, { waitUntil: 'load' });

    const names = await page.locator('tr[data-slo] .slo-name').allInnerTexts();
    expect(names.map((n) => n.trim())).toEqual(['checkout-availability', 'checkout-latency']);
    await expect(page.locator('tr[data-slo="checkout-latency"] [data-field="state"]').innerText()).resolves.toBe('Ticket open');

    // One refresh from /status.json, so the polling path is what the assertions see.
    await page.waitForFunction(() => (window as unknown as { tracklaneStatus: { updates: number } }).tracklaneStatus.updates >= 2, undefined, { timeout: 20_000 });
    const charts = await page.evaluate(() => {
      const s = (window as unknown as { tracklaneStatus: { charts: Record<string, { data: Array<Array<number | null>>; root: HTMLElement }> } }).tracklaneStatus;
      return Object.entries(s.charts).map(([id, u]) => {
        const canvas = u.root.querySelector('canvas');
        return {
          id,
          points: u.data[0].length,
          // data points per line
          lines: u.data.slice(1).map((line) => line.filter((v) => v !== null && Number.isFinite(v)).length),
          canvas: canvas ? { w: canvas.width, h: canvas.height } : null,
        };
      });
    });
    expect(charts.map((c) => c.id).sort()).toEqual(['chart-budget', 'chart-burn-checkout-availability', 'chart-burn-checkout-latency', 'chart-sli-ratio', 'chart-throughput']);
    for (const c of charts) {
      expect(c.canvas && c.canvas.w > 200 && c.canvas.h > 100).toBe(true);
      expect(c.points).toBeGreaterThanOrEqual(6);
      // every line has at least two points, so uPlot draws a line and not a dot
      expect({ id: c.id, shortest: Math.min(...c.lines) }).toEqual({ id: c.id, shortest: expect.any(Number) });
      expect(Math.min(...c.lines)).toBeGreaterThanOrEqual(2);
    }

    // Ratio charts end at 100% (a ratio cannot pass it) and start just under their lowest value.
    const axes = await page.evaluate(() => {
      const s = (window as unknown as { tracklaneStatus: { charts: Record<string, { data: Array<Array<number | null>>; scales: Record<string, { min: number; max: number }> }> } }).tracklaneStatus;
      return ['chart-sli-ratio', 'chart-budget'].map((id) => {
        const u = s.charts[id];
        const values = u.data.slice(1).flat().filter((v): v is number => v !== null && Number.isFinite(v));
        return { id, min: u.scales.y.min, max: u.scales.y.max, lowest: Math.min(...values) };
      });
    });
    for (const a of axes) {
      expect({ id: a.id, max: a.max }).toEqual({ id: a.id, max: 1 });
      expect(a.min).toBeLessThanOrEqual(a.lowest);
      expect(a.min).toBeGreaterThanOrEqual(a.lowest - 0.05 * (1 - a.lowest) - 1e-9);
    }
    // Each chart says what its lines are: a note under it and uPlot's legend of line names.
    const explained = await page.evaluate(() => [...document.querySelectorAll('figure.panel')].map((f) => ({
      id: f.querySelector('.chart')?.id,
      note: f.querySelector('.chart-note')?.textContent ?? '',
      legend: [...f.querySelectorAll('.u-legend .u-series .u-label')].map((l) => l.textContent ?? '').filter(Boolean),
    })));
    expect(explained).toHaveLength(charts.length);
    for (const e of explained) {
      expect(e.note.length).toBeGreaterThan(30);
      expect(e.legend.length).toBeGreaterThanOrEqual(2); // time plus at least one line
    }
    expect(explained.find((e) => e.id === 'chart-sli-ratio')!.legend).toEqual(expect.arrayContaining(['checkout-availability', 'checkout-latency']));

    // Cells the script rewrote read as the server's formats would write them.
    const cells = await page.evaluate(() => {
      const s = (window as unknown as { tracklaneStatus: { doc: StatusDocument } }).tracklaneStatus;
      const text = (sel: string) => document.querySelector(sel)?.textContent ?? '';
      return {
        doc: s.doc,
        ratio: text('[data-field="ratio"][data-slo="checkout-availability"]'),
        budget: text('[data-field="budget"][data-slo="checkout-latency"]'),
        burn: text('[data-field="burn"][data-slo="checkout-availability"][data-window="1h"]'),
      };
    });
    const latest = cells.doc.latest!;
    expect(cells.ratio).toBe(formatRatio(latest.slos['checkout-availability'].sliRatio));
    expect(cells.budget).toBe(formatBudget(latest.slos['checkout-latency'].budgetRemaining));
    expect(cells.burn).toBe(formatBurn(latest.slos['checkout-availability'].burnRates['1h']));

    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});

import { createMetrics } from '../../src/observability/metrics';
import { outputBytesCounter } from '../../src/observability/cost';
import type { OutputMessage } from '../../src/sink/output';

const outputs = { outputs: { enriched: { topic: 'e' }, deadLetter: { topic: 'd' }, metrics: { topic: 'm' }, alerts: { topic: 'a', format: 'avro' as const } } };

async function values(m: ReturnType<typeof createMetrics>, name: string): Promise<Record<string, number>> {
  const metric = m.registry.getSingleMetric(name)!;
  const got = await metric.get();
  return Object.fromEntries(got.values.map((v) => [String(v.labels.output ?? ''), v.value]));
}

test('tracklane_output_bytes_total counts key, value and headers per output, and starts at 0 for each', async () => {
  const m = createMetrics('cost-test');
  expect(await values(m, 'tracklane_output_bytes_total')).toEqual({ enriched: 0, deadLetter: 0, metrics: 0, alerts: 0 });
  const count = outputBytesCounter(outputs, m.outputBytes);
  const messages: OutputMessage[] = [];
  const expected: Record<string, number> = { enriched: 0, deadLetter: 0, metrics: 0, alerts: 0 };
  const names: Record<string, string> = { e: 'enriched', d: 'deadLetter', m: 'metrics', a: 'alerts' };
  for (let i = 0; i < 200; i++) {
    const topic = 'edma'[i % 4];
    const key = i % 3 === 0 ? null : `key-é-${i}`; // multi-byte characters count as bytes
    const value = Buffer.alloc(i);
    const headers = i % 5 === 0 ? { origin: 'test', bin: Buffer.from([1, 2, 3]) } : undefined;
    messages.push({ topic, key, value, headers });
    expected[names[topic]] += i + (key === null ? 0 : Buffer.byteLength(key)) + (headers ? 'origin'.length + 4 + 'bin'.length + 3 : 0);
  }
  messages.push({ topic: 'elsewhere', key: null, value: Buffer.alloc(99) }); // not an output: not counted
  count(messages);
  expect(await values(m, 'tracklane_output_bytes_total')).toEqual(expected);
});

test('tracklane_cpu_seconds_per_1k_events: CPU since the last scrape per 1,000 consumed events; kept while no events arrive', async () => {
  const m = createMetrics('cost-test');
  const gauge = m.registry.getSingleMetric('tracklane_cpu_seconds_per_1k_events')!;
  const read = async () => (await gauge.get()).values[0]?.value;
  await read(); // baseline
  m.consumed.inc({ source: 'web' }, 2_000);
  const start = process.cpuUsage();
  let spent = 0;
  while (spent < 50_000) { // 50 ms of CPU
    const d = process.cpuUsage(start);
    spent = d.user + d.system;
  }
  const first = await read();
  // at least the 50 ms burnt, spread over 2 thousand events
  expect(first).toBeGreaterThanOrEqual(0.05 / 2);
  expect(first).toBeLessThan(10);
  expect(await read()).toBe(first); // no events since: the last value stays
});

import client from 'prom-client';
import type { Topology } from '../topology/types';

// The cost measures of issue 14: CPU per 1,000 events and bytes written per output.

/**
 * tracklane_cpu_seconds_per_1k_events: process CPU (user + system, process.cpuUsage) since the
 * previous scrape, per 1,000 input records consumed in that time. The whole process counts
 * (Kafka client, Redis, timers), so it is what an instance costs per event. A scrape that
 * saw no events keeps the last value (no events, no cost per event) and restarts the
 * interval, so idle time is not charged to the next events.
 */
export function cpuPerThousandEvents(registry: client.Registry, consumed: client.Counter<string>): client.Gauge {
  let lastCpu = process.cpuUsage();
  let lastEvents = 0;
  return new client.Gauge({
    name: 'tracklane_cpu_seconds_per_1k_events',
    help: 'Process CPU seconds per 1,000 consumed events, over the interval since the previous scrape',
    registers: [registry],
    async collect() {
      const events = (await consumed.get()).values.reduce((n, v) => n + v.value, 0);
      const cpu = process.cpuUsage(lastCpu);
      lastCpu = process.cpuUsage();
      const delta = events - lastEvents;
      lastEvents = events;
      if (delta > 0) this.set(((cpu.user + cpu.system) / 1e6 / delta) * 1_000);
    },
  });
}

/** The parts of a sink OutputMessage that are counted (structural: sink imports this folder). */
export interface CountedRecord {
  topic: string;
  key: Buffer | string | null;
  value: Buffer;
  headers?: Record<string, Buffer | string>;
}

export type OutputName = 'enriched' | 'deadLetter' | 'metrics' | 'alerts';
export const OUTPUT_NAMES: readonly OutputName[] = ['enriched', 'deadLetter', 'metrics', 'alerts'];

/**
 * Counts the bytes of delivered records into tracklane_output_bytes_total{output}: key, value
 * and headers as handed to the producer (before compression and Kafka's framing).
 */
export function outputBytesCounter(topology: Pick<Topology, 'outputs'>, counter: client.Counter<'output'>): (messages: readonly CountedRecord[]) => void {
  const byTopic = new Map<string, OutputName>();
  for (const name of OUTPUT_NAMES) {
    const topic = topology.outputs[name]?.topic;
    if (topic !== undefined) byTopic.set(topic, name);
  }
  return (messages) => {
    const bytes = new Map<OutputName, number>();
    for (const m of messages) {
      const output = byTopic.get(m.topic);
      if (!output) continue;
      let n = m.value.length + (m.key === null ? 0 : Buffer.byteLength(m.key));
      for (const [k, v] of Object.entries(m.headers ?? {})) n += Buffer.byteLength(k) + Buffer.byteLength(v);
      bytes.set(output, (bytes.get(output) ?? 0) + n);
    }
    for (const [output, n] of bytes) counter.inc({ output }, n);
  };
}

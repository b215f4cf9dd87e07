import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import avro from 'avsc';
import { Registry, registryOptionsFromEnv } from '../../src/decode/registry';
import { writeWireFrame } from '../../src/decode/wire';
import { uniqueName } from './stack-env';

// A throw-away topology over fresh topics and subjects, written as YAML exactly as a user
// would, plus encoders for the test's order events.

export const FIXTURES = path.resolve(__dirname, '../fixtures');
export const ORDER_V1 = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'order-v1.avsc'), 'utf8'));
export const ORDER_V2 = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'order-v2.avsc'), 'utf8'));

export interface Fixture {
  name: string;
  file: string;
  dir: string;
  raw: string;
  enriched: string;
  dlq: string;
  metrics: string;
  alerts: string;
  subject: string;
  topics: string[];
}

export interface FixtureOptions {
  delivery?: 'at-least-once' | 'exactly-once';
  partitions?: number;
  maxValueBytes?: number;
  /** YAML lines for `spec.enrich` (each starting with "- "). */
  enrich?: string[];
  /** YAML block for `spec.dedupe`, e.g. "{ key: event_id, window: 24h }". */
  dedupe?: string;
  /** Extra YAML appended under spec (slis, slos, windows). */
  extra?: string;
  name?: string;
}

/**
 * `windows` and the two checkout SLIs the SLO suites share (success ratio and latency of
 * `type == 'checkout'` events, grouped by region), as YAML for FixtureOptions.extra. Each
 * suite picks its lateness and idle timeout; append `slos:` after it.
 */
export function checkoutSlisYaml(o: { allowedLateness: string; idleTimeout: string; latencyGroupBy?: boolean }): string {
  return `  windows: { bucket: 1m, allowedLateness: ${o.allowedLateness}, idleTimeout: ${o.idleTimeout} }
  slis:
    - name: checkout-success
      ratio: { good: "status == 'ok'", total: "type == 'checkout'" }
      groupBy: [region]
    - name: checkout-latency
      latency: { field: duration_ms, threshold: 300, filter: "type == 'checkout'" }
${o.latencyGroupBy === false ? '' : '      groupBy: [region]\n'}`;
}

export function writeFixture(o: FixtureOptions = {}): Fixture {
  const name = o.name ?? uniqueName('t').toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-'));
  fs.copyFileSync(path.join(FIXTURES, 'order-v2.avsc'), path.join(dir, 'order.avsc'));
  const f = {
    name, dir,
    file: path.join(dir, `${name}.yaml`),
    raw: `raw.${name}`, enriched: `enriched.${name}`, dlq: `dlq.${name}`, metrics: `metrics.${name}`, alerts: `alerts.${name}`,
    subject: `raw.${name}-value`,
  };
  const enrich = o.enrich ?? ['- correlation: { field: correlation_id, header: traceparent, generate: true }', '- pseudonymize: { fields: [email, ip] }'];
  const yaml = `apiVersion: tracklane/v1
kind: Topology
metadata: { name: ${name}, version: 1 }
spec:
  delivery: ${o.delivery ?? 'at-least-once'}
  sources:
    - name: web
      topic: ${f.raw}
      format: avro
      subject: ${f.subject}
      schema: order.avsc
      partitions: ${o.partitions ?? 3}
      eventTime: { field: ts, maxFutureSkew: 5m }
      idempotencyKey: event_id
      maxValueBytes: ${o.maxValueBytes ?? 2048}
  enrich:
${enrich.map((l) => '    ' + l).join('\n')}
${o.dedupe ? `  dedupe: ${o.dedupe}\n` : ''}  outputs:
    enriched: { topic: ${f.enriched} }
    deadLetter: { topic: ${f.dlq} }
    metrics: { topic: ${f.metrics} }
    alerts: { topic: ${f.alerts} }
${o.extra ?? ''}`;
  fs.writeFileSync(f.file, yaml);
  return { ...f, topics: [f.raw, f.enriched, f.dlq, f.metrics, f.alerts] };
}

/** Same topology file, with one YAML substitution (e.g. a raised size limit). */
export function rewriteFixture(f: Fixture, from: string, to: string): void {
  const text = fs.readFileSync(f.file, 'utf8');
  if (!text.includes(from)) throw new Error(`fixture has no "${from}"`);
  fs.writeFileSync(f.file, text.replace(from, to));
}

export interface Order {
  event_id: string;
  ts: number;
  type: string;
  status: string;
  region?: string;
  duration_ms?: number;
  email?: string | null;
  ip?: string | null;
  anonymous_id?: string | null;
  user_id?: string | null;
  correlation_id?: string | null;
  note?: string | null;
  consent_analytics?: boolean;
}

export async function registerVersions(subject: string): Promise<{ v1: number; v2: number; registry: Registry }> {
  const registry = new Registry(registryOptionsFromEnv());
  const v1 = await registry.register(subject, JSON.stringify(ORDER_V1));
  const v2 = await registry.register(subject, JSON.stringify(ORDER_V2));
  return { v1, v2, registry };
}

const v1Type = avro.Type.forSchema(ORDER_V1);
const v2Type = avro.Type.forSchema(ORDER_V2);

export function encodeV1(id: number, order: Order): Buffer {
  return writeWireFrame(id, v1Type.toBuffer(order));
}
export function encodeV2(id: number, order: Order): Buffer {
  return writeWireFrame(id, v2Type.toBuffer(order));
}

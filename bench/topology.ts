// A throw-away topology per engine run: topologies/checkout.yaml with fresh names (consumer
// group, Redis prefix, output topics and subjects) and one more SLI, written to a temp
// folder as a user would write it and loaded by the real loader.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { packageRoot } from '../src/package-root';
import { loadTopology } from '../src/topology/load';
import type { Delivery, Topology } from '../src/topology/types';
import { CHECKOUT_SCHEMA_FILE } from './workload';

export interface BenchTopology {
  topology: Topology;
  file: string;
  /** Output topics this run created (the input topic may be shared between runs). */
  outputTopics: string[];
  subjects: string[];
}

/** `<prefix>-<time>-<random>`: lowercase, a legal topology name and topic part. */
export function runName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A temp folder holding the schema; every topology of one bench run is written there. */
export function benchDir(tmpRoot: string): string {
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'tracklane-bench-'));
  fs.copyFileSync(path.join(packageRoot(), CHECKOUT_SCHEMA_FILE), path.join(dir, 'checkout-event.avsc'));
  return dir;
}

export function writeBenchTopology(o: { dir: string; name: string; delivery: Delivery; input: string; partitions: number }): BenchTopology {
  const doc = YAML.parse(fs.readFileSync(path.join(packageRoot(), 'topologies', 'checkout.yaml'), 'utf8'));
  doc.metadata = { name: o.name, version: 1 };
  doc.spec.delivery = o.delivery;
  const source = doc.spec.sources[0];
  Object.assign(source, { topic: o.input, subject: `${o.input}-value`, schema: 'checkout-event.avsc', partitions: o.partitions });
  const outputs = { enriched: `enriched.${o.name}`, deadLetter: `dlq.${o.name}`, metrics: `metrics.${o.name}`, alerts: `alerts.${o.name}` };
  doc.spec.outputs = {
    enriched: { topic: outputs.enriched },
    deadLetter: { topic: outputs.deadLetter },
    metrics: { topic: outputs.metrics },
    alerts: { topic: outputs.alerts, format: 'avro' },
  };
  // checkout.yaml has two SLIs; the bench asks for three, one grouped by a second field.
  doc.spec.slis.push({ name: 'browse-success', ratio: { good: "status == 'ok'", total: "type != 'checkout'" }, groupBy: ['type'] });
  const file = path.join(o.dir, `${o.name}.yaml`);
  fs.writeFileSync(file, `# bench topology, from topologies/checkout.yaml\n${YAML.stringify(doc)}`);
  const topology = loadTopology(file);
  const outputTopics = Object.values(outputs);
  return { topology, file, outputTopics, subjects: [`${o.input}-value`, ...outputTopics.map((t) => `${t}-value`)] };
}

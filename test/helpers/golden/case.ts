import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import YAML from 'yaml';
import { loadTopology } from '../../../src/topology/load';
import type { Topology } from '../../../src/topology/types';

// A golden case is a folder holding topology.yaml (test/topologies/README.md). The runner
// gives every run its own topic names, topology name (consumer group, Redis prefix) and
// subjects by appending a random token, and strips the token from everything it reads back.

export interface GoldenCase {
  name: string;
  dir: string;
  topologyFile: string;
  inputFile: string;
  expectedDir: string;
}

/** Every folder under `root` with a topology.yaml, by name (flat files such as bad/*.yaml are not cases). */
export function discoverCases(root: string): GoldenCase[] {
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(root, d.name, 'topology.yaml')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const dir = path.join(root, name);
      return { name, dir, topologyFile: path.join(dir, 'topology.yaml'), inputFile: path.join(dir, 'input.jsonl'), expectedDir: path.join(dir, 'expected') };
    });
}

export interface RunNames {
  /** Appended to every name; stripped from every string read back. */
  token: string;
  /** The topology as the engine runs it: renamed, schema paths absolute. */
  topology: Topology;
  /** The renamed topology file (in a temporary folder). */
  file: string;
  /** Per source name: its `schema` as written in the case (relative to the case folder). */
  sourceSchemas: Map<string, string | undefined>;
  rename(name: string): string;
}

export function newToken(): string {
  return `g${randomBytes(5).toString('hex')}`;
}

/** Writes the case's topology with this run's names and loads it. */
export function renameTopology(c: GoldenCase, token: string): RunNames {
  const rename = (name: string) => `${name}.${token}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `golden-${c.name}-`));
  const doc = YAML.parseDocument(fs.readFileSync(c.topologyFile, 'utf8'));
  const name = String(doc.getIn(['metadata', 'name']));
  doc.setIn(['metadata', 'name'], `${name}-${token}`);
  const sourceSchemas = new Map<string, string | undefined>();
  const sources = doc.getIn(['spec', 'sources']) as YAML.YAMLSeq;
  sources.items.forEach((_, i) => {
    const at = (k: string) => ['spec', 'sources', i, k];
    doc.setIn(at('topic'), rename(String(doc.getIn(at('topic')))));
    if (doc.hasIn(at('subject'))) doc.setIn(at('subject'), rename(String(doc.getIn(at('subject')))));
    const schema = doc.getIn(at('schema')) as string | undefined;
    sourceSchemas.set(String(doc.getIn(at('name'))), schema);
    if (schema) {
      const copy = path.join(dir, `source-${i}-${path.basename(schema)}`);
      fs.writeFileSync(copy, runSchemaText(path.resolve(c.dir, schema), token));
      doc.setIn(at('schema'), copy);
    }
  });
  const outputs = doc.getIn(['spec', 'outputs']) as YAML.YAMLMap;
  for (const pair of outputs.items) {
    const at = ['spec', 'outputs', String((pair.key as YAML.Scalar).value ?? pair.key), 'topic'];
    doc.setIn(at, rename(String(doc.getIn(at))));
  }
  const file = path.join(dir, 'topology.yaml');
  fs.writeFileSync(file, doc.toString());
  return { token, topology: loadTopology(file), file, sourceSchemas, rename };
}

/** Removes this run's token from a name or message ("raw.orders.g1a2b3c4d5" -> "raw.orders"). */
export function stripToken(text: string, token: string): string {
  return text.split(`.${token}`).join('').split(`-${token}`).join('').split(token).join('<run>');
}

/**
 * A schema file's text as this run registers it: tagged with the token (an Avro attribute,
 * a JSON Schema $comment), so its registry id is this run's own. Identical content under
 * many subjects shares one id, and the registry then names any of those subjects (with its
 * version) for the id: runs would see each other's subjects and versions.
 */
export function runSchemaText(file: string, token: string): string {
  const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return JSON.stringify(schema);
  const tag = file.endsWith('.avsc') ? { golden_run: token } : { $comment: `golden run ${token}` };
  return JSON.stringify({ ...schema, ...tag });
}

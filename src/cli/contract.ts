// `tracklane contract -t FILE [--schema candidate.avsc] [--source NAME]`: the producer side of
// schema evolution. A producer's CI runs it before a schema ships; it exits 1 with one line
// per problem when events written with the schema would break the topology (checks:
// src/topology/contract.ts), 2 when the registry cannot be asked.
import fs from 'node:fs';
import type { Command } from 'commander';
import { Registry, registryOptionsFromEnv, type SubjectVersion } from '../decode/registry';
import { EXIT, UserError } from '../errors';
import {
  fieldProblems,
  parseContractSchema,
  readabilityProblems,
  unwrittenKeyProblems,
  type ContractSchema,
} from '../topology/contract';
import { loadTopology } from '../topology/load';
import type { SourceSpec, Topology } from '../topology/types';
import { action } from './command';

export function registerContract(program: Command): void {
  program
    .command('contract')
    .description('check registered schema versions (or a candidate schema) against what the topology needs; one line per problem, exit 1 if any')
    .requiredOption('-t, --topology <file>', 'topology YAML')
    .option('--schema <file>', 'candidate Avro schema to check instead of the registered versions')
    .option('--source <name>', 'only this source (needed with --schema when the topology has several)')
    .action(
      action(async (opts: { topology: string; schema?: string; source?: string }) => {
        const topology = loadTopology(opts.topology);
        const registry = new Registry(registryOptionsFromEnv());
        const result = opts.schema
          ? await checkCandidate(topology, pickSources(topology, opts.source, true)[0], opts.schema, (s) => registry.versions(s))
          : await checkRegistered(topology, pickSources(topology, opts.source, false), (s) => registry.versions(s));
        for (const line of result.notes) process.stdout.write(`note: ${line}\n`);
        for (const line of result.problems) process.stderr.write(`${line}\n`);
        if (result.problems.length > 0) return EXIT.user;
        process.stdout.write(`ok: ${result.summary}\n`);
        return EXIT.ok;
      }),
    );
}

export interface ContractResult {
  /** `<subject> v<N>: <problem>` or `<file>: <problem>`. */
  problems: string[];
  notes: string[];
  summary: string;
}

type Versions = (subject: string) => Promise<SubjectVersion[]>;

function pickSources(topology: Topology, name: string | undefined, one: boolean): SourceSpec[] {
  if (name !== undefined) {
    const found = topology.sources.find((s) => s.name === name);
    if (!found) throw new UserError(`--source ${name}: the topology has no such source; its sources: ${topology.sources.map((s) => s.name).join(', ')}`);
    return [found];
  }
  if (one && topology.sources.length > 1) {
    throw new UserError(`the topology has ${topology.sources.length} sources; name the one the candidate schema is for with --source (${topology.sources.map((s) => s.name).join(', ')})`);
  }
  return topology.sources;
}

/** Registered versions parsed; the ones that cannot be used are problems. */
function parseVersions(source: SourceSpec, versions: SubjectVersion[], problems: string[]): ContractSchema[] {
  const parsed: ContractSchema[] = [];
  for (const v of versions) {
    const label = `${source.subject} v${v.version}`;
    if (v.schemaType !== 'AVRO') {
      problems.push(`${label}: is a ${v.schemaType} schema but source ${source.name} says format: avro`);
      continue;
    }
    try {
      parsed.push(parseContractSchema(v.schema, label));
    } catch (err) {
      problems.push(`${label}: ${(err as Error).message}`);
    }
  }
  return parsed;
}

const jsonNote = (s: SourceSpec) => `source ${s.name} is JSON Schema; contract checks Avro sources only`;

/**
 * Every registered version of each source subject: readable with the latest (the reader
 * schema the engine loads at start) and writing the key and event time; the latest must also
 * hold every field and expression the topology uses.
 */
export async function checkRegistered(topology: Topology, sources: SourceSpec[], versionsOf: Versions): Promise<ContractResult> {
  const problems: string[] = [];
  const notes: string[] = [];
  let checked = 0;
  for (const source of sources) {
    if (source.format !== 'avro') {
      notes.push(jsonNote(source));
      continue;
    }
    const versions = parseVersions(source, await versionsOf(source.subject), problems);
    if (versions.length === 0) {
      if (!problems.some((p) => p.startsWith(`${source.subject} `))) problems.push(`${source.subject}: no version is registered (source ${source.name}); check a schema before it ships with --schema`);
      continue;
    }
    const reader = versions[versions.length - 1];
    for (const writer of versions) {
      const found = writer === reader ? fieldProblems(topology, source, reader) : readabilityProblems(reader, writer);
      found.push(...unwrittenKeyProblems(source, reader, writer));
      for (const p of found) problems.push(`${writer.label}: ${p}`);
      checked++;
    }
  }
  const subjects = sources.filter((s) => s.format === 'avro').map((s) => s.subject);
  return { problems, notes, summary: `${topology.name}: ${checked} registered version${checked === 1 ? '' : 's'} of ${subjects.join(', ')} meet${checked === 1 ? 's' : ''} the contract` };
}

/**
 * A schema about to be registered for `source`: the current reader schema (the latest
 * version, else the topology's schema file) reads it, and once registered it becomes the reader
 * (at the next start, or at once with `readerSchema: latest`), so it must read every registered
 * version still on the topic and hold every field and expression the topology uses.
 */
export async function checkCandidate(topology: Topology, source: SourceSpec, file: string, versionsOf: Versions): Promise<ContractResult> {
  if (source.format !== 'avro') return { problems: [], notes: [jsonNote(source)], summary: `${file}: nothing checked` };
  let candidate: ContractSchema;
  try {
    candidate = parseContractSchema(fs.readFileSync(file, 'utf8'), file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problems: [`${file}: ${code ? `cannot be read (${code})` : (err as Error).message}`], notes: [], summary: '' };
  }
  const problems: string[] = [];
  const notes: string[] = [];
  const versions = parseVersions(source, await versionsOf(source.subject), problems);
  let reader = versions[versions.length - 1];
  if (!reader && source.schema !== undefined) reader = parseContractSchema(fs.readFileSync(source.schema, 'utf8'), source.schema);
  if (!reader) notes.push(`${source.subject} is not registered and source ${source.name} names no schema file: no reader schema to check against`);
  const own = fieldProblems(topology, source, candidate);
  if (reader) own.push(...readabilityProblems(reader, candidate), ...unwrittenKeyProblems(source, reader, candidate));
  for (const p of own) problems.push(`${file}: ${p}`);
  for (const old of versions) {
    for (const p of [...readabilityProblems(candidate, old), ...unwrittenKeyProblems(source, candidate, old)]) problems.push(`${old.label}: ${p}`);
  }
  const range = versions.length === 0 ? 'no registered versions' : `reads ${versions.length === 1 ? versions[0].label : `${versions[0].label}..v${versionNumber(versions[versions.length - 1])}`}`;
  return { problems, notes, summary: `${file} meets the contract of source ${source.name} (${range}${reader ? `, readable with ${reader.label}` : ''})` };
}

const versionNumber = (s: ContractSchema): string => s.label.slice(s.label.lastIndexOf(' v') + 2);

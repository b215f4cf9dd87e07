// Loads a topology file: YAML (with positions) -> zod schema -> cross-field checks -> frozen
// Topology. Every problem is collected and reported at once as `file:line:col path: message`
// in one UserError, so a user fixes a file in one pass.

import fs from 'node:fs';
import path from 'node:path';
import { isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../errors';
import { YamlPositions, type Position } from './positions';
import { topologySchema, type TopologyDocument } from './schema';
import { schemaFileProblems } from './schema-file';
import { invalid, locate, valueAt } from './report';
import { semanticProblems, type Problem } from './semantic';
import type { OutputsSpec, SourceSpec, Topology } from './types';

/**
 * A topology is a few kilobytes. The bound keeps a hostile or mistaken file (a log, a dump,
 * /dev/zero) from costing minutes of parsing or all the memory there is.
 */
export const MAX_TOPOLOGY_BYTES = 1024 * 1024;
/** Deeper `[`/`{` nesting overflows the YAML parser's stack (and at ~100k levels, V8's heap). */
export const MAX_FLOW_NESTING = 64;

/** Reads and validates a topology file. Throws UserError with every problem in `details`. */
export function loadTopology(file: string): Topology {
  return loadTopologyText(readTopologyFile(file), file);
}

function readTopologyFile(file: string): string {
  const fail = (why: string): never => {
    const line = `${file}: cannot read topology file (${why})`;
    throw new UserError(line, [line]);
  };
  try {
    // Only regular files: a FIFO would block forever and a device (/dev/zero) never ends.
    const stat = fs.statSync(file);
    if (stat.isDirectory()) return fail('is a directory');
    if (!stat.isFile()) return fail('not a regular file');
    if (stat.size > MAX_TOPOLOGY_BYTES) return fail(`it has ${stat.size} bytes; the limit is ${MAX_TOPOLOGY_BYTES}`);
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    const e = err as NodeJS.ErrnoException;
    return fail(e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : (e.code ?? e.message));
  }
}

/** Validates topology text; `fileName` names it in messages and anchors relative `schema:` paths. */
export function loadTopologyText(text: string, fileName: string): Topology {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_TOPOLOGY_BYTES) throw invalid(fileName, [{ line: 1, col: 1, text: `topology has ${bytes} bytes; the limit is ${MAX_TOPOLOGY_BYTES}` }]);
  const deep = tooDeep(text);
  if (deep) throw invalid(fileName, [{ ...deep, text: `YAML: [ ] and { } nest deeper than ${MAX_FLOW_NESTING} levels` }]);

  const lineCounter = new LineCounter();
  // yaml's own uniqueKeys check is quadratic in the keys of a map; duplicateKeys() is not.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const positions = new YamlPositions(doc, lineCounter, text);
  const messages: Array<Position & { text: string }> = [];

  if (doc.errors.length > 0) {
    for (const err of doc.errors) messages.push({ ...positions.pos(err.pos[0]), text: `YAML: ${firstLine(err.message)}` });
    throw invalid(fileName, messages);
  }
  for (const offset of duplicateKeys(doc)) messages.push({ ...positions.pos(offset), text: 'YAML: Map keys must be unique' });
  if (messages.length > 0) throw invalid(fileName, messages);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    messages.push({ line: 1, col: 1, text: `YAML: ${firstLine((err as Error).message)}` });
    throw invalid(fileName, messages);
  }

  const baseDir = path.dirname(path.resolve(fileName));
  const parsed = topologySchema.safeParse(data);
  const problems: Problem[] = [];
  if (!parsed.success) problems.push(...parsed.error.issues.flatMap((issue) => fromIssue(issue, data)));
  problems.push(...semanticProblems(data), ...schemaFileProblems(data, baseDir));

  messages.push(...locate(positions, data, problems));
  if (messages.length > 0 || !parsed.success) throw invalid(fileName, messages);
  return deepFreeze(assemble(parsed.data, path.resolve(fileName), baseDir));
}

// --- assembly -------------------------------------------------------------------------------

function assemble(d: TopologyDocument, file: string, baseDir: string): Topology {
  const sources: SourceSpec[] = d.spec.sources.map((s) => {
    const { schema, ...rest } = s;
    const out: SourceSpec = { ...rest };
    if (schema !== undefined) out.schema = path.resolve(baseDir, schema);
    return out;
  });
  // Output partitions stay as written: `init` picks its own defaults for what is left out.
  const outputs: OutputsSpec = d.spec.outputs;
  const topology: Topology = {
    file,
    name: d.metadata.name,
    version: d.metadata.version,
    delivery: d.spec.delivery,
    sources,
    enrich: d.spec.enrich,
    outputs,
    windows: d.spec.windows,
    slis: d.spec.slis,
    slos: d.spec.slos,
  };
  if (d.spec.dedupe) {
    topology.dedupe = { key: d.spec.dedupe.key ?? sources[0].idempotencyKey, windowMs: d.spec.dedupe.window, onConflict: d.spec.dedupe.onConflict };
  }
  return topology;
}

// --- issues -> problems ---------------------------------------------------------------------

function fromIssue(issue: z.core.$ZodIssue, data: unknown): Problem[] {
  const at = issue.path as PropertyKey[];
  const value = valueAt(data, at);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...at, key], atKey: true, message: `unknown field "${key}"; ${issue.message}` }));
    case 'invalid_type': {
      if (value === undefined) return [{ path: at, missing: true, message: 'required field is missing' }];
      const wanted = isZodDefault(issue.message) ? `expected ${issue.expected}` : issue.message;
      return [{ path: at, message: `${wanted}, got ${describe(value)}` }];
    }
    case 'invalid_value':
      return [{ path: at, message: `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${describe(value)}` }];
    case 'custom': {
      const params = (issue.params ?? {}) as { celOffset?: unknown; atKey?: unknown };
      const p: Problem = { path: at, message: issue.message };
      if (typeof params.celOffset === 'number') p.celOffset = params.celOffset;
      if (params.atKey === true) p.atKey = true;
      return [p];
    }
    case 'too_small':
    case 'too_big': {
      const message = isZodDefault(issue.message) ? bound(issue) : issue.message;
      return [{ path: at, message: value === undefined || Array.isArray(value) ? message : `${message}, got ${describe(value)}` }];
    }
    default:
      return [{ path: at, message: value === undefined ? issue.message : `${issue.message}, got ${describe(value)}` }];
  }
}

/** zod's own wording ("Too small: expected number to be >=1"), as opposed to ours. */
function isZodDefault(message: string): boolean {
  return /^(Invalid input|Too small|Too big)/.test(message);
}

function bound(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const limit = small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum;
  const inclusive = issue.inclusive !== false;
  const op = small ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
  switch (issue.origin) {
    case 'array':
    case 'set':
      return small ? `needs at least ${limit} item${Number(limit) === 1 ? '' : 's'}` : `allows at most ${limit} items`;
    case 'string':
      return small ? (Number(limit) <= 1 ? 'must not be empty' : `needs at least ${limit} characters`) : `allows at most ${limit} characters`;
    default:
      return `must be ${op} ${limit}`;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Offsets of keys that repeat an earlier key of the same map (compared as the strings toJS makes of them). */
function duplicateKeys(doc: Document): number[] {
  const found: number[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (seen.has(key)) found.push(pair.key.range?.[0] ?? 0);
        seen.add(key);
      }
    },
  });
  return found;
}

/** Position of the first `[` or `{` nested deeper than MAX_FLOW_NESTING (counted over the raw text, quotes included). */
function tooDeep(text: string): Position | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) (line++, (lineStart = i + 1));
    else if (c === 91 || c === 123) {
      if (++depth > MAX_FLOW_NESTING) return { line, col: i - lineStart + 1 };
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  return undefined;
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

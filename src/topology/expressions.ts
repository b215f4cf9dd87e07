// Every CEL expression of a topology, where it is written, and its type check against the
// reader schema of each source (an SLI's expressions run on the events of every source).
// `check` checks against the sources' `schema:` files; the engine checks against the reader
// schemas it loads from the registry at start, so a source without a schema file is checked
// there.

import { CelCompileError, compileCel } from '../expr/cel';
import type { CelVariables } from '../expr/schema-types';
import { typeCheckCel } from '../expr/type-check';
import { describeProblems } from './report';
import type { Problem } from './semantic';
import type { Topology } from './types';

export interface ExpressionRef {
  /** YAML path of the expression string. */
  path: PropertyKey[];
  /** Bounded metric label: `<sli>.good`, `<sli>.total`, `<sli>.filter`, `sample.keep`. */
  name: string;
  source: string;
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The expressions written in a raw (not yet validated) topology document. */
export function expressionRefsOfDocument(doc: unknown): ExpressionRef[] {
  const spec = isRec(doc) && isRec(doc.spec) ? doc.spec : undefined;
  const refs: ExpressionRef[] = [];
  if (!spec) return refs;
  if (Array.isArray(spec.enrich)) {
    spec.enrich.forEach((entry, i) => {
      if (isRec(entry) && isRec(entry.sample) && typeof entry.sample.keep === 'string') refs.push(sampleKeepRef(i, entry.sample.keep));
    });
  }
  if (!Array.isArray(spec.slis)) return refs;
  spec.slis.forEach((sli, i) => {
    if (!isRec(sli)) return;
    const name = typeof sli.name === 'string' ? sli.name : `#${i}`;
    for (const [kind, keys] of [['ratio', ['good', 'total']], ['latency', ['filter']]] as const) {
      const part = sli[kind];
      if (!isRec(part)) continue;
      for (const key of keys) {
        const source = part[key];
        if (typeof source === 'string') refs.push({ path: ['spec', 'slis', i, kind, key], name: `${name}.${key}`, source });
      }
    }
  });
  return refs;
}

/** The sample step's `keep` rule, checked like the SLI expressions. */
function sampleKeepRef(i: number, source: string): ExpressionRef {
  return { path: ['spec', 'enrich', i, 'sample', 'keep'], name: 'sample.keep', source };
}

/** The expressions of a loaded topology (a ratio SLI's `total` defaults to `true`). */
export function expressionRefs(topology: Topology): ExpressionRef[] {
  const sample = topology.enrich.flatMap((step, i) => (step.kind === 'sample' && step.keep !== undefined ? [sampleKeepRef(i, step.keep)] : []));
  return [...sample, ...sliExpressionRefs(topology)];
}

function sliExpressionRefs(topology: Topology): ExpressionRef[] {
  return topology.slis.flatMap((sli, i): ExpressionRef[] => {
    const at = (kind: string, key: string, source: string): ExpressionRef => ({ path: ['spec', 'slis', i, kind, key], name: `${sli.name}.${key}`, source });
    if (sli.kind === 'ratio') return [at('ratio', 'good', sli.good), at('ratio', 'total', sli.total)];
    if (sli.kind === 'builtin') return [];
    return sli.filter === undefined ? [] : [at('latency', 'filter', sli.filter)];
  });
}

/** Type errors of the expressions against one schema. Expressions that do not compile are reported elsewhere. */
export function expressionTypeProblems(refs: readonly ExpressionRef[], vars: CelVariables): Problem[] {
  const problems: Problem[] = [];
  for (const ref of refs) {
    try {
      compileCel(ref.source);
    } catch {
      continue;
    }
    try {
      typeCheckCel(ref.source, vars);
    } catch (err) {
      if (!(err instanceof CelCompileError)) throw err;
      problems.push({ path: ref.path, message: `CEL: ${err.summary}`, celOffset: err.offset });
    }
  }
  return problems;
}

/**
 * Start-up check of a loaded topology against the reader schemas the engine uses. Throws a
 * UserError whose details point into the topology file (`file:line:col path: message`).
 */
export function assertExpressionsTypeCheck(topology: Topology, schemas: readonly CelVariables[]): void {
  const refs = expressionRefs(topology);
  const problems = schemas.flatMap((vars) => expressionTypeProblems(refs, vars));
  if (problems.length === 0) return;
  throw describeProblems(topology.file, problems);
}

/** Lines `check` prints when it could not type-check expressions offline. */
export function expressionNotes(topology: Topology): string[] {
  if (expressionRefs(topology).length === 0) return [];
  return topology.sources
    .filter((s) => s.schema === undefined)
    .map((s) => `note: source "${s.name}" names no schema file, so CEL expressions were not type-checked against its fields; the engine checks them against the registry's reader schema of ${s.subject} when it starts`);
}

// CEL filters over events (SLI good/total, latency filters), compiled once at load time with
// @marcbachmann/cel-js. Config strings are never turned into JavaScript (no eval/new Function).
//
// Semantics that matter for event data (checked against cel-js 8):
// - Every top-level field of the record is a variable: `status == 'ok'`. The whole record is
//   also bound as `event` (unless the record has its own field called `event`, which wins), so
//   an optional field can be tested with `has(event.email)`.
// - CEL predeclares the type names bool, bytes, double, int, list, map, null_type, string, type
//   and uint as identifiers, so `type == 'checkout'` would compare the type `type` with a
//   string. Event fields with those names are common (`type`!), so we rewrite each such free
//   identifier to "the record's field if it has one, else the type": the field wins, and
//   `type(x) == int` still works for records without an `int` field.
// - A field that does not exist is an error ("Unknown variable"), not null. Avro records always
//   carry every field (absent optionals are null), so this only happens for a typo or a
//   JSON-schema event that omits a field. `&&` and `||` absorb an error when the other side
//   decides (`false && missing == 1` is false), as the CEL spec says.
// - JS numbers (Avro int, long, float, double all decode to them) are CEL doubles; BigInts are
//   CEL ints. Comparisons mix freely (`duration_ms <= 300`, `code in [500, 503]`, `x == 3`).
//   CEL itself has no double-int arithmetic, so we register + - * / between double and int
//   (result double): `duration_ms / 1000 > 2` works. `%` is int-only: `int(code) % 100 == 0`.
// - The result must be a bool. A non-bool result or a runtime error throws CelEvaluationError;
//   the caller decides what that means for the event.
//
// Hostile or accidental expensive expressions: the source is capped at MAX_SOURCE_LENGTH, the
// parser rejects more than MAX_AST_NODES nodes or nesting deeper than MAX_DEPTH, and nested
// list macros are held to MAX_EVALUATION_STEPS by a static estimate. `matches()`
// takes only a literal pattern, which must compile and must not nest quantifiers (the classic
// catastrophic-backtracking shape: JS has no RE2). What remains is bounded: CEL has no loops
// except the list macros (all/exists/map/filter), so one evaluation costs at most about
// (AST size) x (list length)^(macro nesting), and lists and strings are bounded by the
// source's maxValueBytes.

import type * as Cel from '@marcbachmann/cel-js' with { 'resolution-mode': 'import' };

// cel-js is an ES module; Node 20.19+ loads it with require() (tsc's node16 CommonJS output
// cannot use a static import of an ES module, and import() would make loading async).
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const cel: typeof Cel = require('@marcbachmann/cel-js');

export const MAX_SOURCE_LENGTH = 2_000;
const MAX_AST_NODES = 400;
const MAX_DEPTH = 32;
const MAX_REGEX_LENGTH = 200;

export interface CelProgram {
  readonly source: string;
  /** A record, or a scope from celScope() shared by every expression run on one event. */
  evaluate(event: Record<string, unknown> | CelScope): boolean;
}

/** An event's variables, built once and shared by all expressions evaluated on it. */
export type CelScope = Map<string, unknown> & { readonly __celScope: true };

/**
 * Several expressions on one event (SLI total, good, filter...) should share one scope:
 * building it looks at every field, and copies the record when a value needs converting.
 */
export function celScope(record: Record<string, unknown>): CelScope {
  return celContext(record) as CelScope;
}

/** The expression does not compile: syntax, limits, a static type error, an unsafe regex. */
export class CelCompileError extends Error {
  constructor(
    readonly expression: string,
    /** Short message without the source excerpt. */
    readonly summary: string,
    /** Character offset of the problem inside the expression. */
    readonly offset: number,
    options?: { cause?: unknown },
  ) {
    super(`invalid CEL expression: ${summary}`, options);
    this.name = 'CelCompileError';
  }
}

/** Evaluating a compiled expression against one event failed or did not give a bool. */
export class CelEvaluationError extends Error {
  constructor(
    readonly expression: string,
    /** cel-js error code (e.g. unknown_variable, no_such_overload) or "not_bool". */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CelEvaluationError';
  }
}

export const LIMITS = { maxAstNodes: MAX_AST_NODES, maxDepth: MAX_DEPTH, maxListElements: 100, maxMapEntries: 100, maxCallArguments: 8 };

/** Registers + - * / between double and int (result double): JS numbers are CEL doubles. */
export function registerMixedArithmetic(env: Cel.Environment): void {
  const ops: Record<'+' | '-' | '*' | '/', (a: number, b: number) => number> = {
    '+': (a, b) => a + b,
    '-': (a, b) => a - b,
    '*': (a, b) => a * b,
    '/': (a, b) => a / b,
  };
  for (const [op, fn] of Object.entries(ops)) {
    env.registerOperator(`double ${op} int`, (a: number, b: bigint) => fn(a, Number(b)));
    env.registerOperator(`int ${op} double`, (a: bigint, b: number) => fn(Number(a), b));
  }
}

function createEnvironment(): Cel.Environment {
  const env = new cel.Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false, limits: LIMITS });
  registerMixedArithmetic(env);
  return env;
}

let environment: Cel.Environment | undefined;
const compiled = new Map<string, CelProgram>();
const CACHE_LIMIT = 1_000;

/**
 * Compiles a CEL condition once; the same source returns the same program (the loader compiles
 * every expression to report errors, the pipeline compiles them again for free).
 */
export function compileCel(expr: string): CelProgram {
  const hit = compiled.get(expr);
  if (hit) return hit;
  const program = compile(expr);
  if (compiled.size >= CACHE_LIMIT) compiled.clear();
  compiled.set(expr, program);
  return program;
}

function compile(expr: string): CelProgram {
  if (expr.length > MAX_SOURCE_LENGTH) {
    throw new CelCompileError(expr, `expression is ${expr.length} characters long; the limit is ${MAX_SOURCE_LENGTH}`, MAX_SOURCE_LENGTH);
  }
  if (expr.trim() === '') throw new CelCompileError(expr, 'expression is empty', 0);
  environment ??= createEnvironment();
  let fn: ReturnType<Cel.Environment['parse']>;
  try {
    fn = environment.parse(expr);
  } catch (err) {
    throw fromCelError(expr, err);
  }
  checkRegexes(expr, fn.ast);
  checkCost(expr, fn.ast);
  const rewrite = shadowTypeNames(expr, fn.ast);
  if (rewrite.edits.length > 0) {
    try {
      fn = environment.parse(rewrite.source);
    } catch (err) {
      throw fromCelError(expr, err, rewrite);
    }
  }
  const checked = fn.check();
  if (!checked.valid) throw fromCelError(expr, checked.error, rewrite);
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw new CelCompileError(expr, `expression must be a condition (bool), but it gives ${checked.type}`, 0);
  }

  const parsed = fn;
  return Object.freeze({
    source: expr,
    evaluate(event: Record<string, unknown>): boolean {
      let result: unknown;
      try {
        result = parsed(event instanceof EventScope ? event : celContext(event as Record<string, unknown>));
      } catch (err) {
        const e = err as { code?: unknown; summary?: unknown; message?: unknown };
        const summary = typeof e.summary === 'string' ? e.summary : firstLine(String(e.message ?? err));
        throw new CelEvaluationError(expr, typeof e.code === 'string' ? e.code : 'evaluation_failed', `CEL "${expr}": ${summary}`, { cause: err });
      }
      if (typeof result !== 'boolean') {
        throw new CelEvaluationError(expr, 'not_bool', `CEL "${expr}" gave ${describe(result)}, not a bool`);
      }
      return result;
    },
  });
}

export function fromCelError(expr: string, err: unknown, rewrite?: Rewrite): CelCompileError {
  const e = err as { summary?: unknown; message?: unknown; range?: { start?: unknown } };
  const summary = typeof e.summary === 'string' ? e.summary : firstLine(String(e.message ?? err));
  let start = typeof e.range?.start === 'number' ? e.range.start : 0;
  if (rewrite) start = rewrite.originalOffset(start);
  return new CelCompileError(expr, summary, Math.min(Math.max(0, start), expr.length), { cause: err });
}

// --- fields named like CEL types ------------------------------------------------------------

export const TYPE_NAMES: ReadonlySet<string> = new Set(['bool', 'bytes', 'double', 'int', 'list', 'map', 'null_type', 'string', 'type', 'uint']);
const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter', 'bind']);
/** Hidden variable holding the whole record, used by the rewrite below. */
export const RECORD_ALIAS = '__tracklane_record';

export interface Rewrite {
  source: string;
  edits: Array<{ start: number; end: number; length: number }>;
  originalOffset(offset: number): number;
}

/** Rewrites free identifiers named like CEL types to `(has(r.type) ? r.type : type)`. */
function shadowTypeNames(expr: string, ast: unknown): Rewrite {
  return rewriteFreeIdentifiers(expr, ast, (name) =>
    TYPE_NAMES.has(name) ? `(has(${RECORD_ALIAS}.${name}) ? ${RECORD_ALIAS}.${name} : ${name})` : undefined,
  );
}

/**
 * Replaces free identifiers (not a macro's iteration variable) for which `replace` gives a
 * text, keeping a map from offsets in the new source back to the original.
 */
export function rewriteFreeIdentifiers(expr: string, ast: unknown, replace: (name: string) => string | undefined): Rewrite {
  const bound = new Set<string>();
  const ids: Array<{ node: AstLike; replacement: string }> = [];
  walk(ast, (node) => {
    if (node.op === 'id' && typeof node.args === 'string') {
      const replacement = replace(node.args);
      if (replacement !== undefined) ids.push({ node, replacement });
    }
    if (node.op === 'rcall' && Array.isArray(node.args) && MACROS.has(node.args[0] as string)) {
      const iterVar = Array.isArray(node.args[2]) ? node.args[2][0] : undefined;
      if (isAst(iterVar) && iterVar.op === 'id' && typeof iterVar.args === 'string') bound.add(iterVar.args);
    }
  });
  const edits: Rewrite['edits'] = [];
  let source = '';
  let at = 0;
  for (const { node: id, replacement } of ids.filter((n) => !bound.has(n.node.args as string)).sort((a, b) => (a.node.start ?? 0) - (b.node.start ?? 0))) {
    const name = id.args as string;
    const start = id.start ?? 0;
    const end = id.end ?? start + name.length;
    if (start < at || expr.slice(start, end) !== name) continue;
    source += expr.slice(at, start) + replacement;
    edits.push({ start, end, length: replacement.length });
    at = end;
  }
  source += expr.slice(at);
  return {
    source,
    edits,
    originalOffset(offset) {
      let delta = 0;
      for (const e of edits) {
        const newStart = e.start + delta;
        if (offset < newStart) break;
        if (offset < newStart + e.length) return e.start;
        delta += e.length - (e.end - e.start);
      }
      return offset - delta;
    },
  };
}

// --- regex guard --------------------------------------------------------------------------

interface AstLike {
  op: string;
  args: unknown;
  start?: number;
  end?: number;
}

function isAst(v: unknown): v is AstLike {
  return typeof v === 'object' && v !== null && typeof (v as AstLike).op === 'string' && 'args' in v;
}

function walk(node: unknown, visit: (n: AstLike) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit);
    return;
  }
  if (!isAst(node)) return;
  visit(node);
  if (typeof node.args === 'object' && node.args !== null) walk(node.args, visit);
}

// A group that itself holds a quantifier, followed by a quantifier: (a+)+, (a|aa)*, (\w*)*.
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]|\((?:[^()\\]|\\.)*\|(?:[^()\\]|\\.)*\)\s*[+*{]/;

function checkRegexes(expr: string, ast: unknown): void {
  walk(ast, (node) => {
    let name: unknown;
    let patternArg: unknown;
    if (node.op === 'rcall' && Array.isArray(node.args)) {
      name = node.args[0];
      patternArg = Array.isArray(node.args[2]) ? node.args[2][0] : undefined;
    } else if (node.op === 'call' && Array.isArray(node.args)) {
      name = node.args[0];
      patternArg = Array.isArray(node.args[1]) ? node.args[1][1] : undefined;
    }
    if (name !== 'matches') return;
    const at = node.start ?? 0;
    if (!isAst(patternArg) || patternArg.op !== 'value' || typeof patternArg.args !== 'string') {
      throw new CelCompileError(expr, 'matches() needs a literal pattern string', at);
    }
    const pattern = patternArg.args;
    const pAt = patternArg.start ?? at;
    if (pattern.length > MAX_REGEX_LENGTH) throw new CelCompileError(expr, `matches() pattern is longer than ${MAX_REGEX_LENGTH} characters`, pAt);
    try {
      new RegExp(pattern);
    } catch (err) {
      throw new CelCompileError(expr, `matches() pattern does not compile: ${(err as Error).message}`, pAt);
    }
    if (NESTED_QUANTIFIER.test(pattern) || /\\[1-9]/.test(pattern)) {
      throw new CelCompileError(expr, 'matches() pattern nests quantifiers or uses back-references (catastrophic backtracking); simplify it', pAt);
    }
  });
}

// --- evaluation cost ----------------------------------------------------------------------

/**
 * The list macros multiply: `[0..96].all(a, [0..96].all(b, [0..96].all(c, [0..96].all(d, true))))`
 * passes the node and depth limits yet takes 88 million steps, seconds for every event. The
 * estimate counts a literal list or map by its size and one from the event as NOMINAL_EVENT_LIST.
 */
export const MAX_EVALUATION_STEPS = 100_000;
const NOMINAL_EVENT_LIST = 100;
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

function evaluationSteps(node: unknown): number {
  if (Array.isArray(node)) return node.reduce((sum: number, child) => sum + evaluationSteps(child), 0);
  if (!isAst(node)) return 0;
  if (node.op === 'rcall' && Array.isArray(node.args) && COMPREHENSIONS.has(node.args[0] as string) && Array.isArray(node.args[2])) {
    const receiver = node.args[1];
    const literal = isAst(receiver) && (receiver.op === 'list' || receiver.op === 'map') && Array.isArray(receiver.args);
    const size = literal ? (receiver.args as unknown[]).length : NOMINAL_EVENT_LIST;
    // args[2] is [iteration variable, body...]; the body runs once per element.
    return 1 + evaluationSteps(receiver) + size * Math.max(1, evaluationSteps(node.args[2].slice(1)));
  }
  return 1 + (typeof node.args === 'object' && node.args !== null ? evaluationSteps(node.args) : 0);
}

function checkCost(expr: string, ast: unknown): void {
  const steps = evaluationSteps(ast);
  if (steps > MAX_EVALUATION_STEPS) {
    throw new CelCompileError(expr, `nested list macros make this expression cost about ${Math.round(steps).toLocaleString('en-US')} steps per event; the limit is ${MAX_EVALUATION_STEPS.toLocaleString('en-US')}`, 0);
  }
}

// --- event values ---------------------------------------------------------------------------

/** True when cel-js understands the value as it is (primitives, plain maps, arrays, bytes). */
function celReady(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== 'object') return typeof v !== 'function' && typeof v !== 'symbol' && v !== undefined;
  if (depth > 16) return false;
  const ctor = (v as object).constructor;
  if (ctor === Array) return (v as unknown[]).every((x) => celReady(x, depth + 1));
  if (ctor === Object || ctor === undefined) return Object.values(v).every((x) => celReady(x, depth + 1));
  return ctor === Uint8Array || ctor === Date || ctor === Map;
}

/**
 * Converts decoded values cel-js would reject: Avro record class instances become plain maps,
 * Buffers become Uint8Array (CEL bytes), undefined fields are left out.
 */
function toCel(v: unknown, depth = 0): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (depth > 16) return null;
  if (Buffer.isBuffer(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof Uint8Array || v instanceof Date || v instanceof Map) return v;
  if (Array.isArray(v)) return v.map((x) => toCel(x, depth + 1));
  return plainFields(v as Record<string, unknown>, depth);
}

function plainFields(record: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value !== undefined && typeof value !== 'function') out[key] = toCel(value, depth + 1);
  }
  return out;
}

/**
 * The variables of one evaluation. cel-js looks variables up with get() when the context is a
 * Map, which lets us serve the record's own fields without copying them (the common case) and
 * build the plain copy that `event` may need only when an expression uses it. Only own fields
 * count: `constructor` or an Avro record's prototype methods are not variables.
 */
class EventScope extends Map<string, unknown> {
  private whole: Record<string, unknown> | undefined;

  constructor(private readonly view: Record<string, unknown>) {
    super();
  }

  override get(key: string): unknown {
    const view = this.view;
    if (Object.prototype.hasOwnProperty.call(view, key)) return view[key];
    if (key === 'event' || key === RECORD_ALIAS) {
      return (this.whole ??= view.constructor === Object || view.constructor === undefined ? view : plainFields(view));
    }
    return undefined;
  }
}

function celContext(record: Record<string, unknown>): Map<string, unknown> {
  // Own keys only, and without for-in: an Avro record's prototype carries methods.
  for (const key of Object.keys(record)) {
    const v = record[key];
    // Primitives are the common case and need no look at all.
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') continue;
    if (!celReady(v)) return new EventScope(plainFields(record));
  }
  return new EventScope(record);
}

/** The type only: the message is logged, and an event's values may be personal data. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return 'an int';
  if (typeof v === 'number') return 'a double';
  if (typeof v === 'string') return 'a string';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a map' : typeof v;
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}

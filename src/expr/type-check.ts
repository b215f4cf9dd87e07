// Static type check of a CEL condition against the fields of a reader schema, so a typo
// (`stauts == 'ok'`) or a type clash (`status == 200` on a string) is found by `tracklane
// check` and at engine start instead of failing on every event.
//
// Only a check: events are still evaluated by the dynamic program of ./cel.ts, whose run-time
// semantics this environment mirrors (JS numbers are doubles that compare with int literals,
// a nullable field compares with null, fields named like CEL types win over the type).

import type * as Cel from '@marcbachmann/cel-js' with { 'resolution-mode': 'import' };
import { cel, CelCompileError, fromCelError, LIMITS, registerMixedArithmetic, rewriteFreeIdentifiers, TYPE_NAMES } from './cel';
import type { CelVariables } from './schema-types';

/** A field named like a CEL type (`type`) is checked under this name, with the field's type. */
const FIELD_ALIAS = '__tracklane_field_';

const environments = new WeakMap<CelVariables, Cel.Environment>();

function environmentFor(vars: CelVariables): Cel.Environment {
  const cached = environments.get(vars);
  if (cached) return cached;
  const env = new cel.Environment({ unlistedVariablesAreDyn: !vars.closed, homogeneousAggregateLiterals: false, limits: LIMITS });
  registerMixedArithmetic(env);
  // At run time a number field is a double and `duration_ms == 3` or `code in [500, 503]` hold;
  // the checker must accept what the evaluator does (`<` and friends already mix).
  env.registerOperator('double == int', (a: number, b: bigint) => a === Number(b));
  env.registerOperator('double in list<int>', (a: number, b: bigint[]) => b.some((x) => Number(x) === a));
  env.registerOperator('int in list<double>', (a: bigint, b: number[]) => b.includes(Number(a)));
  // A nullable Avro field is declared with its type; comparing it with null is how it is tested.
  for (const t of ['string', 'double', 'int', 'bool', 'bytes', 'list', 'map']) env.registerOperator(`${t} == null`, (a: unknown, b: unknown) => a === b);
  for (const [name, type] of vars.fields) declare(env, TYPE_NAMES.has(name) ? FIELD_ALIAS + name : name, type);
  if (!vars.closed) for (const name of TYPE_NAMES) if (!vars.fields.has(name)) declare(env, FIELD_ALIAS + name, 'dyn');
  if (!vars.fields.has('event')) declare(env, 'event', 'map<string, dyn>');
  environments.set(vars, env);
  return env;
}

function declare(env: Cel.Environment, name: string, type: string): void {
  try {
    env.registerVariable(name, type);
  } catch {
    // A name CEL reserves (`in`, `null`) cannot be written in an expression anyway; a type
    // cel-js does not parse is still a value of some type.
    try {
      env.registerVariable(name, 'dyn');
    } catch {
      /* reserved: not usable as a variable */
    }
  }
}

/**
 * Throws CelCompileError (offset inside `expr`) when the expression names a field the schema
 * does not have, or uses a field with the wrong type. `expr` must already compile (compileCel).
 */
export function typeCheckCel(expr: string, vars: CelVariables): void {
  const env = environmentFor(vars);
  let fn: ReturnType<Cel.Environment['parse']>;
  try {
    fn = env.parse(expr);
  } catch (err) {
    throw fromCelError(expr, err);
  }
  const aliased = (name: string) => TYPE_NAMES.has(name) && (vars.fields.has(name) || !vars.closed);
  const rewrite = rewriteFreeIdentifiers(expr, fn.ast, (name) => (aliased(name) ? FIELD_ALIAS + name : undefined));
  if (rewrite.edits.length > 0) fn = env.parse(rewrite.source);
  const checked = fn.check();
  if (!checked.valid) {
    const err = fromCelError(expr, checked.error, rewrite);
    const unknown = checked.error?.code === 'unknown_variable' ? /^[A-Za-z_]\w*/.exec(expr.slice(err.offset))?.[0] : undefined;
    const summary = unknown
      ? `field "${unknown}" is not in the schema of ${vars.describe}`
      : `${err.summary.split(FIELD_ALIAS).join('')}; field types from the schema of ${vars.describe}`;
    throw new CelCompileError(expr, summary, err.offset, { cause: checked.error });
  }
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw new CelCompileError(expr, `expression must be a condition (bool), but it gives ${checked.type} with the schema of ${vars.describe}`, 0);
  }
}

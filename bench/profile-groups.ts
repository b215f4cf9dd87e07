// Self time of a CPU profile summed by where the code lives: a folder of src/ (decode,
// enrich, sink, ...), a package under node_modules (kafkajs, avsc, ioredis, ...), Node's own
// JavaScript, V8 builtins, or the garbage collector. A function table spreads the engine's
// cost over hundreds of small rows; this says which part of the engine to open first.
import path from 'node:path';
import type { SelfTime } from './profile-top';

export interface GroupTime {
  group: string;
  ms: number;
  share: number;
  /** Distinct functions in the group that took samples. */
  functions: number;
  /** For node internals: ms by the group of the nearest caller outside Node's code. */
  calledFrom?: Map<string, number>;
}

/** The group of one call frame's script: `url` as a profile holds it (file:// URL, path or node:...). */
export function groupOf(url: string, functionName: string, root: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    // (program): V8 busy outside JavaScript (compiling, runtime calls it could not attribute).
    if (functionName === '(program)' || functionName === '(root)') return functionName;
    return 'V8 builtins';
  }
  if (url.startsWith('node:')) return 'node internals';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const [scope, name] = file.slice(nm + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  const rel = path.relative(root, file).split(path.sep);
  if (rel[0] === 'dist') rel.shift(); // compiled (dist/src/...) or ts-jest (src/...)
  if (rel[0] === 'src') return rel.length > 2 ? rel[1] : 'src (top level)';
  if (rel[0] === 'bench') return 'bench harness';
  return 'other';
}

/**
 * Self-time rows (from selfTimes) summed per group, largest first. A builtin's time goes to
 * the group of the script that called it (its owners), so a function can count in several.
 */
export function groupSelfTimes(rows: SelfTime[], root: string): GroupTime[] {
  const acc = new Map<string, GroupTime>();
  let total = 0;
  for (const r of rows) {
    for (const [url, ms] of r.owners) {
      const group = groupOf(url, r.name, root);
      const g = acc.get(group) ?? { group, ms: 0, share: 0, functions: 0 };
      g.ms += ms;
      g.functions += 1;
      total += ms;
      acc.set(group, g);
    }
    for (const [url, ms] of r.nodeCallers) {
      const g = acc.get('node internals')!;
      const from = url ? groupOf(url, '', root) : 'no caller';
      g.calledFrom ??= new Map();
      g.calledFrom.set(from, (g.calledFrom.get(from) ?? 0) + ms);
    }
  }
  const groups = [...acc.values()].sort((a, b) => b.ms - a.ms);
  for (const g of groups) g.share = total ? g.ms / total : 0;
  return groups;
}

// Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof` or `tracklane bench
// --engine-only --profile`), summed by src folder / package first, optionally only within the
// first engine run of a bench result file (its profileWindowUs):
//
//   node dist/bench/profile-top.js PROFILE.cpuprofile [RESULT.json] [top=15]
//
// Both the profile and profileWindowUs count monotonic-clock microseconds.
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/package-root';
import { groupSelfTimes } from './profile-groups';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
export interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface SelfTime {
  name: string;
  where: string;
  /** The script as the profile names it (for grouping). */
  url: string;
  /**
   * ms by the script the time belongs to: the function's own, or for a V8 builtin or
   * generated code (no script, e.g. avsc's compiled writers) its nearest caller's.
   */
  owners: Map<string, number>;
  /** Of the time owned by Node's own code (node:...): ms by the nearest caller outside it. */
  nodeCallers: Map<string, number>;
  ms: number;
  share: number;
  /** The nearest caller outside Node's own code and kafkajs/avsc internals, by time. */
  callers: Map<string, number>;
}

function where(url: string, line: number): string {
  if (!url) return '';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('node_modules/');
  const short = nm >= 0 ? file.slice(nm + 'node_modules/'.length) : file.startsWith('node:') ? file : path.relative(process.cwd(), file);
  return `${short}:${line + 1}`;
}

const UNOWNED = new Set(['(garbage collector)', '(program)', '(root)']);

export function selfTimes(p: Profile, window?: { from: number; to: number }): { total: number; rows: SelfTime[] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const callerOf = (id: number): string => {
    for (let cur = parent.get(id); cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (f.url.includes('/dist/') && f.functionName) return `${f.functionName} ${where(f.url, f.lineNumber)}`;
    }
    return '?';
  };
  const ownerOf = (id: number, skipNode = false): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const url = byId.get(cur)!.callFrame.url;
      if (url && !(skipNode && url.startsWith('node:'))) return url;
    }
    return '';
  };
  const acc = new Map<string, SelfTime>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    if (window && (t < window.from || t > window.to)) continue;
    const node = byId.get(p.samples[i]);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    const name = node.callFrame.functionName || '(anonymous)';
    const w = where(node.callFrame.url, node.callFrame.lineNumber);
    const key = `${name} ${w}`;
    const row = acc.get(key) ?? { name, where: w, url: node.callFrame.url, ms: 0, share: 0, callers: new Map(), owners: new Map(), nodeCallers: new Map() };
    row.ms += dt;
    // GC and (program) belong to nobody's script, whatever was on the stack.
    const owner = UNOWNED.has(name) ? '' : ownerOf(node.id);
    row.owners.set(owner, (row.owners.get(owner) ?? 0) + dt);
    if (owner.startsWith('node:')) {
      const app = ownerOf(node.id, true);
      row.nodeCallers.set(app, (row.nodeCallers.get(app) ?? 0) + dt);
    }
    const caller = callerOf(node.id);
    row.callers.set(caller, (row.callers.get(caller) ?? 0) + dt);
    total += dt;
    acc.set(key, row);
  }
  const rows = [...acc.values()].sort((a, b) => b.ms - a.ms);
  for (const r of rows) r.share = total ? r.ms / total : 0;
  return { total, rows };
}

const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
const msCol = (ms: number) => `${Math.round(ms).toLocaleString('en-US').padStart(7)} ms`;

/** The table a profile reads as: busy time by src folder / package, then the top functions. */
export function formatProfile(profile: Profile, window: { from: number; to: number } | undefined, top: number, root = packageRoot()): string {
  const { total, rows } = selfTimes(profile, window);
  const lines = [
    `busy (non-idle) time ${(total / 1000).toFixed(2)} s${window ? ' in the engine run' : ''}; self time by src folder / package`,
    '(V8 builtins and generated code, which have no script, count for their nearest caller that has one):',
  ];
  if (window && !rows.length) lines.push(`  no samples between ${window.from} and ${window.to} µs (profile spans ${profile.startTime}-${profile.endTime}): another clock?`);
  for (const g of groupSelfTimes(rows, root)) {
    const via = [...(g.calledFrom ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 5);
    const from = via.length ? `; called from ${via.map(([k, ms]) => `${k} ${Math.round((ms / g.ms) * 100)}%`).join(', ')}` : '';
    lines.push(`${pct(g.share)}  ${msCol(g.ms)}  ${g.group} (${g.functions} function${g.functions === 1 ? '' : 's'}${from})`);
  }
  lines.push(`top ${top} functions by self time:`);
  for (const r of rows.slice(0, top)) {
    const best = [...r.callers].sort((a, b) => b[1] - a[1])[0];
    const via = best && best[0] !== '?' && !`${r.name} ${r.where}`.startsWith(best[0]) ? `  <- ${best[0]} (${Math.round((best[1] / r.ms) * 100)}%)` : '';
    lines.push(`${pct(r.share)}  ${msCol(r.ms)}  ${r.name}  ${r.where}${via}`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const [profileFile, resultFile, topArg] = process.argv.slice(2);
  if (!profileFile) {
    process.stderr.write('usage: node dist/bench/profile-top.js PROFILE.cpuprofile [RESULT.json] [top]\n');
    process.exit(1);
  }
  const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8')) as Profile;
  const window = resultFile ? (JSON.parse(fs.readFileSync(resultFile, 'utf8')) as { profileWindowUs?: { from: number; to: number } }).profileWindowUs : undefined;
  process.stdout.write(formatProfile(profile, window, Number(topArg ?? 15)) + '\n');
}

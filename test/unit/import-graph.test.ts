import fs from 'node:fs';
import path from 'node:path';

// ARCHITECTURE.md: no folder imports a folder that imports it back. This reads every
// import/export-from/require of src/ (type-only imports too: they couple folders as much),
// builds the graph between src's folders and fails on any cycle. Run with
// `PRINT_IMPORT_GRAPH=1 npx jest test/unit/import-graph.test.ts` to print the graph.

const SRC = path.resolve(__dirname, '../../src');
const SPECIFIER = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return files(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** `src/engine/batch.ts` -> `engine`; a file directly in src is its own node (`index`, `package-root`). */
function folderOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length === 1 ? rel[0].replace(/\.ts$/, '') : rel[0];
}

export function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of files(SRC)) {
    const from = folderOf(file);
    if (!graph.has(from)) graph.set(from, new Set());
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec.startsWith('.')) continue; // a package
      const target = path.resolve(path.dirname(file), spec);
      if (!target.startsWith(SRC + path.sep)) continue; // package.json and the like
      const to = folderOf(fs.existsSync(target) && fs.statSync(target).isDirectory() ? path.join(target, 'index.ts') : target + '.ts');
      if (to !== from) graph.get(from)!.add(to);
    }
  }
  return graph;
}

/** Every elementary cycle's first sighting, as folder paths (Tarjan's strongly connected components). */
export function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return components;
}

describe('folder import graph of src/', () => {
  const graph = folderGraph();

  it('has no cycles between folders', () => {
    if (process.env.PRINT_IMPORT_GRAPH) {
      const lines = [...graph].sort(([a], [b]) => a.localeCompare(b)).map(([from, to]) => `${from} -> ${[...to].sort().join(', ') || '(nothing)'}`);
      process.stdout.write(lines.join('\n') + '\n');
    }
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    const g = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
  });

  it('sees the folders and their edges', () => {
    expect([...graph.get('engine')!]).toEqual(expect.arrayContaining(['pipeline', 'sink', 'source']));
  });
});

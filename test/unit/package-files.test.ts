import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// What `npm pack` ships: what the CLI and the SDK need at run time, no tests, no benchmark
// sources, no source maps (package.json "files"). --ignore-scripts: no build here; the
// compiled files are checked when a build is present.

const REPO = path.resolve(__dirname, '../..');

describe('npm package contents', () => {
  const packed = (JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);

  it('holds the files the CLI and the SDK read at run time', () => {
    for (const f of ['package.json', 'README.md', 'bin/tracklane.js', 'schemas/tracklane/DeadLetter.avsc', 'schemas/checkout-event.avsc', 'src/state/scripts/dedupe-n.lua', 'deploy/local/stack.sh', 'deploy/local/pom.xml', 'topologies/checkout.yaml', 'docs/sdk.md']) {
      expect(packed).toContain(f);
    }
    if (fs.existsSync(path.join(REPO, 'dist/src/index.js'))) {
      for (const f of ['dist/package.json', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/bench/run.js']) expect(packed).toContain(f);
    }
  });

  it('holds no tests, TypeScript sources, source maps or benchmark sources', () => {
    const allowed = /^(package\.json|README\.md|LICENSE|bin\/|dist\/(package\.json|src\/|bench\/)|schemas\/|src\/state\/scripts\/[^/]+\.lua$|topologies\/|deploy\/local\/(stack\.sh|pom\.xml)$|docs\/)/;
    expect(packed.filter((f) => !allowed.test(f))).toEqual([]);
    expect(packed.filter((f) => /\.map$|(?<!\.d)\.ts$/.test(f))).toEqual([]);
  });
});

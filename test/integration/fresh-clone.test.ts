import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// A newcomer's first steps: clone, `npm ci`, and the CLI and the unit tests work with no
// other step (the `prepare` script builds). The clone is of this repository's HEAD commit,
// so uncommitted edits are not part of it. Slow (an install and the unit suite, about two
// minutes), so it lives here and not in test/unit: the clone's `npm run test:unit` must not
// run it again.

const ROOT = path.resolve(__dirname, '../..');
const MINUTES = 60_000;

/** The environment of a user's shell: none of the npm or jest variables of this run. */
function userEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|JEST_WORKER_ID$|INIT_CWD$)/i.test(k)));
  // No registry round trip to ask whether a newer npm exists: it only slows the steps down.
  return { ...env, npm_config_update_notifier: 'false' };
}

function step(dir: string, command: string, args: string[], timeoutMinutes: number): { status: number | null; output: string; seconds: number } {
  const started = Date.now();
  const r = spawnSync(command, args, { cwd: dir, env: userEnv(), encoding: 'utf8', timeout: timeoutMinutes * MINUTES, maxBuffer: 64 << 20 });
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`fresh clone: ${command} ${args.join(' ')}: exit ${r.status} in ${seconds.toFixed(0)} s\n`);
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`, seconds };
}

describe('a fresh clone', () => {
  let dir: string;
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is usable after npm ci alone: npx tracklane --version and npm run test:unit pass', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-clone-'));
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    execFileSync('git', ['clone', '--quiet', '--no-checkout', ROOT, dir]);
    execFileSync('git', ['checkout', '--quiet', '--detach', head], { cwd: dir });
    expect(fs.existsSync(path.join(dir, 'dist'))).toBe(false);

    // --prefer-offline: the packages are in npm's cache already (this checkout was installed).
    const install = step(dir, 'npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], 10);
    expect({ status: install.status, tail: install.status === 0 ? '' : install.output.slice(-3000) }).toEqual({ status: 0, tail: '' });
    expect(fs.existsSync(path.join(dir, 'dist/src/cli/main.js'))).toBe(true);

    const version = step(dir, 'npx', ['--no-install', 'tracklane', '--version'], 2);
    expect(version.status).toBe(0);
    expect(version.output.trim()).toBe(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version);

    const unit = step(dir, 'npm', ['run', 'test:unit'], 20);
    expect({ status: unit.status, tail: unit.status === 0 ? '' : unit.output.slice(-5000) }).toEqual({ status: 0, tail: '' });
    expect(unit.output).toMatch(/Tests: +\d+ passed, \d+ total/);
    expect(unit.output).not.toMatch(/fresh-clone/);
  }, 35 * MINUTES);
});

// `tracklane stack up|down|status`: the CLI face of deploy/local/stack.sh, which does the
// work (downloads, KRaft format, pid files, readiness). docs/stack.md describes the stack.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../errors';

const SCRIPT = path.join('deploy', 'local', 'stack.sh');

const ACTIONS = [
  ['up', 'start Kafka (KRaft), Apicurio Registry and Redis, or leave running parts alone; waits until ready'],
  ['down', 'stop what `stack up` started (a Redis that was already running is left alone)'],
  ['status', 'print each component up or down; exits 2 unless all are up'],
] as const;

/** The package's deploy/local/stack.sh, from ts-jest (src/cli) or compiled (dist/src/cli). */
export function stackScriptPath(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, SCRIPT))) {
      return path.join(dir, SCRIPT);
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find ${SCRIPT} above ${from}`);
  }
}

/** Runs stack.sh with inherited stdio; 0 when it succeeds, 2 (infrastructure) otherwise. */
export function runStackScript(args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    let script: string;
    try {
      script = stackScriptPath();
    } catch (err) {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      resolve(EXIT.infrastructure);
      return;
    }
    const child = spawn('bash', [script, ...args], { stdio: 'inherit' });
    child.on('error', (err) => {
      process.stderr.write(`error: cannot run bash ${script}: ${err.message}\n`);
      resolve(EXIT.infrastructure);
    });
    child.on('close', (code) => resolve(code === 0 ? EXIT.ok : EXIT.infrastructure));
  });
}

export function registerStack(program: Command): void {
  const stack = program
    .command('stack')
    .description('local Kafka + Apicurio Registry + Redis, no Docker (docs/stack.md)');
  for (const [name, description] of ACTIONS) {
    stack
      .command(name)
      .description(description)
      .action(async () => {
        process.exitCode = await runStackScript([name]);
      });
  }
}

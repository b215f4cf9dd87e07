import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A Node process running TypeScript from source (transpiled on require), e.g. a service using the SDK. */
export interface TsChild {
  pid: number;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
  output(): string;
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Starts `entry` (a .ts or .js file, or a script's text) with a require hook for .ts files. */
export function startTsChild(entry: { file: string } | { script: string }, env: NodeJS.ProcessEnv = {}): TsChild {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-child-'));
  fs.writeFileSync(path.join(dir, 'hook.js'), `const ts = require(${JSON.stringify(require.resolve('typescript'))});
const fs = require('fs');
require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true } }).outputText, file);
`);
  const main = 'file' in entry ? entry.file : path.join(dir, 'main.js');
  if ('script' in entry) fs.writeFileSync(main, entry.script);
  const proc = spawn(process.execPath, ['-r', path.join(dir, 'hook.js'), main], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited = false;
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  proc.on('exit', () => (exited = true));
  // 'close' comes after 'exit' and after the last piped output.
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    proc.on('close', (code, signal) => {
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal, output });
    }),
  );
  return {
    pid: proc.pid!,
    done,
    output: () => output,
    kill: (s) => proc.kill(s),
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(output);
        if (m) return m;
        if (exited) throw new Error(`process exited before printing ${pattern}:\n${output.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`process did not print ${pattern} within ${timeoutMs} ms:\n${output.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { EXIT, UserError } from '../errors';
import { expressionNotes } from '../topology/expressions';
import { loadTopology } from '../topology/load';
import { action } from './command';

/**
 * `tracklane check -t FILE [-t FILE ...] [FILE ...]`: validates topologies without touching
 * any infrastructure. Every file is checked and every problem printed, to stderr one per line
 * as `file:line:col path: message` (the format editors and CI annotators pick up, with nothing
 * else on those lines); the exit code is 1 if any file has one. A quoted glob
 * (`-t 'topologies/*.yaml'`) is expanded here; an unquoted one arrives expanded by the shell,
 * its first match after -t and the rest as arguments.
 */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate topology files; every error of every file as file:line:col, exit 1 if any')
    .option('-t, --topology <file>', 'topology YAML file or quoted glob (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .argument('[files...]', 'more topology files or globs')
    .action(
      action(async (files: string[], opts: { topology?: string[] }) => {
        const patterns = [...(opts.topology ?? []), ...files];
        if (patterns.length === 0) throw new UserError('name a topology: tracklane check -t FILE [-t FILE ...]');
        return checkAll(patterns);
      }),
    );
}

/** Files named by the patterns, in the order given, each once; a glob that matches nothing is an error. */
export function expandTopologyPatterns(patterns: string[]): { files: string[]; unmatched: string[] } {
  const files: string[] = [];
  const unmatched: string[] = [];
  for (const pattern of patterns) {
    // A file whose name merely looks like a glob is still that file.
    const matches = isDynamicPattern(pattern) && !fs.existsSync(pattern)
      ? globSync(pattern, { onlyFiles: true, absolute: path.isAbsolute(pattern), expandDirectories: false }).sort()
      : [pattern];
    if (matches.length === 0) unmatched.push(pattern);
    for (const f of matches) if (!files.includes(f)) files.push(f);
  }
  return { files, unmatched };
}

function checkAll(patterns: string[]): number {
  const { files, unmatched } = expandTopologyPatterns(patterns);
  for (const p of unmatched) process.stderr.write(`${p}: no file matches this pattern\n`);
  const several = files.length > 1;
  let failed = unmatched.length;
  for (const file of files) {
    try {
      const t = loadTopology(file);
      const steps = t.enrich.length;
      for (const note of expressionNotes(t)) process.stdout.write(`${several ? `${file}: ` : ''}${note}\n`);
      process.stdout.write(`ok: ${several ? `${file}: ` : ''}${t.name} v${t.version}: ${t.sources.length} sources, ${steps} steps, ${t.slis.length} SLIs, ${t.slos.length} SLOs\n`);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      failed++;
      const lines = err.details.length > 0 ? err.details : [err.message];
      // Messages without a position (a missing file) still say which file they are about.
      for (const line of lines) process.stderr.write(`${several && !line.startsWith(file) ? `${file}: ` : ''}${line}\n`);
    }
  }
  if (several && failed > 0) process.stderr.write(`check: ${failed} of ${files.length + unmatched.length} topologies have errors\n`);
  return failed > 0 ? EXIT.user : EXIT.ok;
}

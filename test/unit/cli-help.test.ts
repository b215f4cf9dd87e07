import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { bashCompletion, zshCompletion } from '../../src/cli/completion';
import { COMMAND_ENV, ENV } from '../../src/cli/env-help';
import { createProgram } from '../../src/cli/program';
import { envNamesReadByCode } from '../helpers/env-names';

// What a newcomer reads before anything runs: --help with the environment, --version,
// shell completion, all from the one command tree.

const ROOT = path.resolve(__dirname, '../..');

/** The full --help text of a command, addHelpText sections included. */
function helpOf(program: Command, ...names: string[]): string {
  let cmd = program;
  for (const n of names) cmd = cmd.commands.find((c) => c.name() === n)!;
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

describe('--help names the environment', () => {
  const program = createProgram();

  it('every env name the code reads is in the one table, with a default', () => {
    for (const name of envNamesReadByCode()) expect(ENV[name]?.default).toBeTruthy();
  });

  it('the table holds DESIGN.md section 3 and the README configuration, with the same defaults', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
    const documented = [...table.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]).filter((n) => !n.startsWith('TRACKLANE_STACK'));
    expect(documented.length).toBeGreaterThan(15);
    for (const name of documented) expect(Object.keys(ENV)).toContain(name);
    for (const [name, def] of [['KAFKA_BROKERS', '127.0.0.1:9092'], ['SCHEMA_REGISTRY_URL', 'http://127.0.0.1:8081/apis/ccompat/v7'], ['REDIS_URL', 'redis://127.0.0.1:6379'], ['TRACKLANE_METRICS_PORT', '9464'], ['LOG_LEVEL', 'info']]) {
      expect(table).toContain(`| \`${name}\` | \`${def}\` |`);
      expect(ENV[name].default).toBe(def);
    }
  });

  it('each command lists what it reads, with defaults, and nothing it does not', () => {
    expect(program.commands.map((c) => c.name()).sort()).toEqual(Object.keys(COMMAND_ENV).sort());
    const run = helpOf(program, 'run');
    expect(run).toMatch(/Environment:\n {2}KAFKA_BROKERS +bootstrap brokers, comma-separated \(default: 127\.0\.0\.1:9092\)/);
    for (const name of ['SCHEMA_REGISTRY_URL', 'REDIS_URL', 'TRACKLANE_PSEUDONYM_KEYS', 'TRACKLANE_METRICS_PORT', 'KAFKA_SASL_PASSWORD', 'REDIS_TLS_CA_FILE', 'LOG_LEVEL', 'LOG_FORMAT']) {
      expect(run).toMatch(new RegExp(`\\n {2}${name} .*\\(default: `));
    }
    const consume = helpOf(program, 'consume');
    expect(consume).toContain('SCHEMA_REGISTRY_URL');
    expect(consume).not.toContain('REDIS_URL');
    expect(helpOf(program, 'stack', 'up')).toContain('TRACKLANE_STACK_DIR');
    expect(helpOf(program, 'check')).not.toContain('Environment:');
    expect(helpOf(program)).toContain('TRACKLANE_PSEUDONYM_KEYS');
  });

  it('--version prints the package version', () => {
    let out = '';
    const p = createProgram().exitOverride().configureOutput({ writeOut: (s) => (out += s) });
    expect(() => p.parse(['node', 'tracklane', '--version'])).toThrow();
    expect(out.trim()).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  });
});

describe('shell completion', () => {
  const program = createProgram();
  const script = bashCompletion(program);

  /** What bash offers after the given words (the last one is being typed). */
  function complete(...words: string[]): string[] {
    const body = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tracklane; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['-c', body], { encoding: 'utf8', cwd: ROOT });
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean);
  }

  it('bash completes commands, subcommands, flags and files after a file flag', () => {
    expect(complete('tracklane', '')).toEqual(expect.arrayContaining(['stack', 'check', 'run', 'demo', 'completion', '--version']));
    expect(complete('tracklane', 'st')).toEqual(['stack']);
    expect(complete('tracklane', 'stack', '')).toEqual(['up', 'down', 'status', '--help']);
    expect(complete('tracklane', 'completion', '')).toEqual(['bash', 'zsh', '--help']);
    expect(complete('tracklane', 'run', '--m')).toEqual(['--metrics-port']);
    expect(complete('tracklane', 'check', '-t', 'topologies/min')).toEqual(['topologies/minimal.yaml']);
    expect(complete('tracklane', 'check', '-t', 'topologies/minimal.yaml', '--')).toEqual(['--topology', '--help']);
  });

  it('zsh gets the same tree through compdef', () => {
    const zsh = zshCompletion(program);
    expect(zsh.startsWith('#compdef tracklane\n')).toBe(true);
    expect(zsh).toContain(`'stack' 'up down status --help'`);
    expect(zsh).toContain(`'run' '-t --topology --metrics-port --instance-id --help'`);
    expect(zsh).toMatch(/\n {4}-t\|--topology\|.*\) _files; return ;;/);
    expect(zsh.trim().endsWith('compdef _tracklane tracklane')).toBe(true);
  });
});

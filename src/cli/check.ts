import type { Command } from 'commander';
import { EXIT, UserError } from '../errors';
import { expressionNotes } from '../topology/expressions';
import { loadTopology } from '../topology/load';
import { action } from './command';

/**
 * `tracklane check -t FILE`: validates a topology without touching any infrastructure.
 * Problems go to stderr one per line as `file:line:col path: message`, the format editors and
 * CI annotators pick up, with nothing else on those lines.
 */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate a topology file; exit 1 with file:line:col messages')
    .requiredOption('-t, --topology <file>', 'topology YAML file')
    .action(
      action(async (opts: { topology: string }) => {
        try {
          const t = loadTopology(opts.topology);
          const steps = t.enrich.length;
          for (const note of expressionNotes(t)) process.stdout.write(`${note}\n`);
          process.stdout.write(`ok: ${t.name} v${t.version}: ${t.sources.length} sources, ${steps} steps, ${t.slis.length} SLIs, ${t.slos.length} SLOs\n`);
          return EXIT.ok;
        } catch (err) {
          if (!(err instanceof UserError)) throw err;
          const lines = err.details.length > 0 ? err.details : [err.message];
          for (const line of lines) process.stderr.write(`${line}\n`);
          return EXIT.user;
        }
      }),
    );
}

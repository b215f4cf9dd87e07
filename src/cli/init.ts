import type { Command } from 'commander';
import { initTopology } from '../engine/provision';
import { loadTopology } from '../topology/load';
import { action } from './command';

// Provisioning itself lives in engine/provision.ts (init, tests and bench share it).
export { initTopology, topicsOf } from '../engine/provision';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create the topology\'s topics and register its schemas (idempotent)')
    .requiredOption('-t, --topology <file>', 'topology YAML')
    .action(
      action(async (opts: { topology: string }) => {
        const topology = loadTopology(opts.topology);
        const result = await initTopology(topology);
        process.stdout.write(
          `created topics: ${result.created.join(', ') || '(none)'}\nexisting topics: ${result.existing.join(', ') || '(none)'}\nsubjects: ${result.subjects.join(', ')}\n`,
        );
      }),
    );
}

// `tracklane sdk types`: TypeScript declarations of a topology's source events for the
// producer SDK (src/sdk/types-gen.ts does the mapping; docs/sdk.md shows the use).
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Registry, registryOptionsFromEnv } from '../decode/registry';
import { eventTypeDeclarations, sourceEventSchemas } from '../sdk/types-gen';
import { loadTopology } from '../topology/load';
import { action } from './command';

export function registerSdk(program: Command): void {
  const sdk = program.command('sdk').description('helpers for services that send events with the producer SDK');
  sdk
    .command('types')
    .description('TypeScript declarations (.d.ts) of the source events, from their Avro schemas (the schema file, else the registry\'s latest version)')
    .requiredOption('-t, --topology <file>', 'topology YAML')
    .option('--source <name>', 'only this source (default: every source)')
    .option('-o, --out <file>', 'write here (e.g. src/tracklane-events.d.ts) instead of stdout')
    .action(
      action(async (opts: { topology: string; source?: string; out?: string }) => {
        const topology = loadTopology(opts.topology);
        const schemas = await sourceEventSchemas(topology, () => new Registry(registryOptionsFromEnv()), opts.source);
        const text = eventTypeDeclarations(schemas, path.basename(opts.topology));
        if (!opts.out) {
          process.stdout.write(text);
          return;
        }
        fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
        fs.writeFileSync(opts.out, text);
        process.stderr.write(`wrote ${opts.out}: ${schemas.map((s) => s.source).join(', ')}\n`);
      }),
    );
}

import fs from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../errors';
import { exportOpenSlo } from '../slo/openslo/export';
import { importOpenSlo } from '../slo/openslo/import';
import { loadTopology } from '../topology/load';
import { action } from './command';

/** `tracklane slo export|import`: the topology's SLOs as OpenSLO v1, and back (docs/alerting.md). */
export function registerSlo(program: Command): void {
  const slo = program.command('slo').description('SLO definitions in other formats (OpenSLO v1)');
  slo
    .command('export')
    .description('print the topology\'s SLOs as OpenSLO v1 documents (SLI, SLO, AlertPolicy), multi-document YAML')
    .requiredOption('-t, --topology <file>', 'topology YAML')
    .option('--format <format>', 'output format (openslo)', 'openslo')
    .action(
      action(async (opts: { topology: string; format: string }) => {
        if (opts.format !== 'openslo') throw new UserError(`--format ${opts.format}: only openslo is supported`);
        const topology = loadTopology(opts.topology);
        if (topology.slos.length === 0) throw new UserError(`topology ${topology.name} has no slos: nothing to export`);
        const out = exportOpenSlo(topology);
        for (const n of out.notes) process.stderr.write(`note: ${n}\n`);
        process.stdout.write(out.yaml);
      }),
    );
  slo
    .command('import')
    .description('turn OpenSLO v1 SLOs with Tracklane CEL queries (metricSource type tracklane) into topology YAML (slis: and slos:)')
    .argument('<file>', 'OpenSLO YAML (one or more documents)')
    .action(
      action(async (file: string) => {
        let text: string;
        try {
          text = fs.readFileSync(file, 'utf8');
        } catch (err) {
          throw new UserError(`cannot read ${file}: ${(err as Error).message}`);
        }
        const out = importOpenSlo(text);
        for (const n of out.notes) process.stderr.write(`${file}: ${n.doc}: ${n.message}\n`);
        if (out.slos.length === 0) throw new UserError(`${file}: no SLO could be imported`, ['each SLO needs an SLI whose metricSource type is tracklane (CEL over the events)']);
        process.stdout.write('# Paste under `spec:` of a topology (tracklane slo import).\n' + out.yaml);
      }),
    );
}

import type { Command } from 'commander';
import { prometheusRules } from '../slo/rules';
import { loadTopology } from '../topology/load';
import { action } from './command';

/** `tracklane rules -t FILE`: Prometheus recording and alerting rules for the topology's SLOs, as YAML on stdout. */
export function registerRules(program: Command): void {
  program
    .command('rules')
    .description('print Prometheus recording + multiwindow burn-rate alerting rules (YAML) for the SLOs')
    .requiredOption('-t, --topology <file>', 'topology YAML file')
    .action(
      action(async (opts: { topology: string }) => {
        process.stdout.write(prometheusRules(loadTopology(opts.topology)));
      }),
    );
}

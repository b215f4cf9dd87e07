import { Option, type Command } from 'commander';
import { UserError } from '../errors';
import { DEFAULT_SCRAPE_INTERVAL_MS, generateRules, type RulesFormat } from '../slo/rules';
import { loadTopology } from '../topology/load';
import { action, parseFlagDuration } from './command';

/**
 * `tracklane rules -t FILE`: Prometheus recording and alerting rules for the topology's SLOs,
 * as YAML on stdout (a rule file, or a Kubernetes PrometheusRule). A window that had to widen
 * to 4 scrape intervals is said on stderr, and in a comment of the YAML.
 */
export function registerRules(program: Command): void {
  program
    .command('rules')
    .description('print Prometheus recording + multiwindow burn-rate alerting rules (YAML) for the SLOs')
    .requiredOption('-t, --topology <file>', 'topology YAML file')
    .addOption(new Option('--format <format>', 'a Prometheus rule file, or a Kubernetes PrometheusRule (Prometheus Operator)').choices(['prometheus', 'prometheusrule']).default('prometheus'))
    .option('--scrape-interval <duration>', `how often Prometheus scrapes the engine; windows are at least 4 of these (default ${DEFAULT_SCRAPE_INTERVAL_MS / 1000}s)`)
    .option('--release <name>', 'with --format prometheusrule: the `release` label the Prometheus Operator selects rules by')
    .action(
      action(async (opts: { topology: string; format: RulesFormat; scrapeInterval?: string; release?: string }) => {
        const scrapeIntervalMs = opts.scrapeInterval === undefined ? undefined : parseFlagDuration(opts.scrapeInterval, '--scrape-interval');
        if (scrapeIntervalMs !== undefined && scrapeIntervalMs < 1000) throw new UserError(`--scrape-interval ${opts.scrapeInterval}: expected at least 1s`);
        if (opts.release !== undefined && opts.format !== 'prometheusrule') throw new UserError('--release applies to --format prometheusrule only');
        const rules = generateRules(loadTopology(opts.topology), { format: opts.format, scrapeIntervalMs, release: opts.release });
        for (const w of rules.widened) process.stderr.write(`rules: ${w}\n`);
        process.stdout.write(rules.yaml);
      }),
    );
}

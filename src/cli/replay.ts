import type { Command } from 'commander';
import { EXIT, UserError } from '../errors';
import { action, parseFlagDuration, parsePositiveInt } from './command';
import { progressBar } from './progress';
import { replayDeadLetters } from './replay/run';
import { parseTimeBound } from './replay/selection';
import { formatSummary } from './replay/summary';

export { replayDeadLetters, replayGroup } from './replay/run';
export type { ReplaySummary } from './replay/summary';

/** What a shell reports for a process ended by Ctrl-C. */
const EXIT_INTERRUPTED = 130;

interface ReplayFlags {
  topology: string;
  reason?: string;
  since?: string;
  until?: string;
  time: string;
  dryRun?: boolean;
  rate?: string;
  chunkSize: string;
  idleTimeout: string;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('re-send dead letters to their source topic, each once (docs/state.md: "Dead-letter replay")')
    .requiredOption('-t, --topology <file>', 'topology YAML')
    .requiredOption('--from-dlq', 'read the topology\'s dead-letter topic')
    .option('--reason <code>', 'only dead letters with this reason (its own replay group)')
    .option('--since <time>', 'only dead letters from this time on: ISO-8601, or a duration ago (2h, 7d)')
    .option('--until <time>', 'only dead letters before this time: ISO-8601, or a duration ago')
    .option('--time <which>', 'what --since/--until compare: failed (when dead-lettered) or source (the input record\'s timestamp)', 'failed')
    .option('--dry-run', 'count what would be replayed, by reason; send nothing, commit nothing')
    .option('--rate <n>', 'dead letters per second, at most (default: as fast as possible)')
    .option('--chunk-size <n>', 'dead letters per request, at most (requests also stay under the topics\' size limit)', '500')
    .option('--idle-timeout <duration>', 'stop when nothing arrives for this long before the end', '10s')
    .action(
      action(async (flags: ReplayFlags) => {
        if (flags.time !== 'failed' && flags.time !== 'source') throw new UserError(`--time ${flags.time}: expected failed or source`);
        const now = Date.now();
        const since = flags.since === undefined ? undefined : parseTimeBound(flags.since, '--since', now);
        const until = flags.until === undefined ? undefined : parseTimeBound(flags.until, '--until', now);
        if (since !== undefined && until !== undefined && since >= until) throw new UserError('--since must be before --until');
        const abort = new AbortController();
        const onSigint = () => {
          process.stderr.write('\ninterrupted: stopping after the chunk in flight is sent and committed (Ctrl-C again to leave now; nothing is lost either way)\n');
          abort.abort();
          process.once('SIGINT', () => process.exit(EXIT_INTERRUPTED));
        };
        process.once('SIGINT', onSigint);
        let bar: ReturnType<typeof progressBar> | undefined;
        try {
          const summary = await replayDeadLetters({
            topology: flags.topology,
            reason: flags.reason,
            since,
            until,
            time: flags.time,
            dryRun: !!flags.dryRun,
            rate: flags.rate === undefined ? undefined : parsePositiveInt(flags.rate, '--rate'),
            chunkRecords: parsePositiveInt(flags.chunkSize, '--chunk-size'),
            idleMs: parseFlagDuration(flags.idleTimeout, '--idle-timeout'),
            signal: abort.signal,
            onProgress: (done, pending) => {
              bar ??= progressBar(flags.dryRun ? 'dry run' : 'replay', pending);
              bar.update(done);
            },
          });
          // The bar counts offsets, transaction markers included: a finished run fills it.
          if (!summary.interrupted && !summary.idle) bar?.update(summary.pending);
          bar?.stop();
          process.stderr.write(`${formatSummary(summary)}\n`);
          if (summary.interrupted) return EXIT_INTERRUPTED;
          if (summary.idle) return EXIT.infrastructure;
          return summary.failed.length ? EXIT.user : EXIT.ok;
        } finally {
          bar?.stop();
          process.removeListener('SIGINT', onSigint);
        }
      }),
    );
}

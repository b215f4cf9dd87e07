import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors';
import type { Delivery } from '../topology/types';
import { action, parsePositiveInt } from './command';
import { CpuProfiler } from '../../bench/cpu-profiler';
import { formatProfile } from '../../bench/profile-top';
import { formatReport, writeReport } from '../../bench/report';
import { runBench } from '../../bench/run';

const QUICK_EVENTS = 100_000;

interface BenchFlags {
  events: string;
  quick?: boolean;
  partitions: string;
  delivery: string;
  duplicates: string;
  bad: string;
  out: string;
  chunkSize: string;
  pacedSeconds: string;
  seed: string;
  engineOnly?: boolean;
  profile?: boolean;
  top: string;
}

function fraction(text: string, flag: string): number {
  const f = Number(text);
  if (!Number.isFinite(f) || f < 0 || f >= 0.5) throw new UserError(`${flag} ${text}: expected a fraction between 0 and 0.5, e.g. 0.05`);
  return f;
}

function deliveries(text: string): Delivery[] {
  if (text === 'both') return ['at-least-once', 'exactly-once'];
  if (text === 'at-least-once' || text === 'exactly-once') return [text];
  throw new UserError(`--delivery ${text}: expected at-least-once, exactly-once or both`);
}

/** `tracklane bench`: the engine against Kafka's perf tools and a kafkajs pass-through (bench/README.md). */
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure the engine on the local stack next to baselines from the same run (bench/README.md)')
    .option('--events <n>', 'input events; a quick run uses 100,000', '1000000')
    .option('--quick', `short run of ${QUICK_EVENTS.toLocaleString('en-US')} events (unless --events is given)`)
    .option('--partitions <n>', 'partitions of every topic', '8')
    .option('--delivery <mode>', 'at-least-once | exactly-once | both', 'both')
    .option('--duplicates <fraction>', 'share of events re-sent with the same bytes and event_id', '0.05')
    .option('--bad <fraction>', 'share of bad events (half truncated Avro, half an unknown schema id)', '0.01')
    .option('--out <dir>', 'where <timestamp>.json and .svg go', 'bench/results')
    .option('--chunk-size <n>', 'events per pipeline pass, engine and pass-through alike', '500')
    .option('--paced-seconds <n>', 'length cap of each half-rate run', '60')
    .option('--seed <n>', 'workload seed', '7')
    .option('--engine-only', 'produce the input and run the engine once at full speed, nothing else (for profiling)')
    .option('--profile', 'with --engine-only: CPU-profile the engine run, write <timestamp>.cpuprofile, print self time by src folder')
    .option('--top <n>', 'functions listed with --profile', '15')
    .action(
      action(async (flags: BenchFlags, cmd: Command) => {
        const explicitEvents = cmd.getOptionValueSource('events') === 'cli';
        const events = flags.quick && !explicitEvents ? QUICK_EVENTS : parsePositiveInt(flags.events, '--events');
        if (flags.profile && !flags.engineOnly) throw new UserError('--profile needs --engine-only (a profile of one engine run, without the baselines)');
        const top = parsePositiveInt(flags.top, '--top');
        const profiler = flags.profile ? new CpuProfiler() : undefined;
        const abort = new AbortController();
        const onSigint = () => {
          process.stderr.write('interrupted: cleaning up (Ctrl-C again to leave now)\n');
          abort.abort();
          process.once('SIGINT', () => process.exit(130));
        };
        process.once('SIGINT', onSigint);
        try {
          const report = await runBench(
            {
              events,
              partitions: parsePositiveInt(flags.partitions, '--partitions'),
              deliveries: deliveries(flags.delivery),
              duplicates: fraction(flags.duplicates, '--duplicates'),
              bad: fraction(flags.bad, '--bad'),
              chunkSize: parsePositiveInt(flags.chunkSize, '--chunk-size'),
              pacedSeconds: parsePositiveInt(flags.pacedSeconds, '--paced-seconds'),
              seed: parsePositiveInt(flags.seed, '--seed'),
              engineOnly: !!flags.engineOnly,
              profile: !!profiler,
            },
            abort.signal,
            profiler,
          );
          process.stdout.write(formatReport(report) + '\n');
          const files = writeReport(report, path.resolve(flags.out));
          const shown = (f: string) => (path.relative(process.cwd(), f).startsWith('..') ? f : path.relative(process.cwd(), f));
          const written = [shown(files.json), shown(files.svg)];
          if (profiler?.profile) {
            const file = files.json.replace(/\.json$/, '.cpuprofile');
            fs.writeFileSync(file, JSON.stringify(profiler.profile));
            written.push(shown(file));
            process.stdout.write('\n' + formatProfile(profiler.profile, report.profileWindowUs, top) + '\n');
          }
          process.stdout.write(`written: ${written.join(', ')}\n`);
        } finally {
          process.removeListener('SIGINT', onSigint);
        }
      }),
    );
}

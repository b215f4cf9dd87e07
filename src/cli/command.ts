import { InfrastructureError, UserError, EXIT, credentialsRefused } from '../errors';

/**
 * Every command runs through here: user errors print their details and exit 1, an
 * unreachable dependency exits 2, and nobody sees a stack trace unless LOG_LEVEL=debug.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void | number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = typeof code === 'number' ? code : EXIT.ok;
    } catch (err) {
      process.exitCode = report(err);
    }
  };
}

export function report(err: unknown): number {
  const debug = process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace';
  if (err instanceof UserError) {
    process.stderr.write(`error: ${err.message}\n`);
    for (const d of err.details) process.stderr.write(`  ${d}\n`);
    return EXIT.user;
  }
  const refused = credentialsRefused(err);
  if (refused) {
    process.stderr.write(`error: ${refused.message}\n  check ${refused.settings.join(', ')}\n`);
    return EXIT.infrastructure;
  }
  if (err instanceof InfrastructureError || isConnectionError(err)) {
    process.stderr.write(`error: ${(err as Error).message} (is the stack up? \`tracklane stack up\`)\n`);
    if (debug) process.stderr.write(`${(err as Error).stack}\n`);
    return EXIT.infrastructure;
  }
  process.stderr.write(`error: ${(err as Error)?.message ?? String(err)}\n`);
  if (debug) process.stderr.write(`${(err as Error)?.stack}\n`);
  return EXIT.user;
}

function isConnectionError(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? '';
  return /KafkaJSConnectionError|KafkaJSNumberOfRetriesExceeded|KafkaJSNonRetriableError|KafkaJSBrokerNotFound/.test(name);
}

/** "5s", "500ms", "2m" for CLI flags (the topology has its own parser with positions). */
export function parseFlagDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UserError(`${flag} ${text}: expected a duration such as 500ms, 5s or 2m`);
  const n = Number(m[1]);
  return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] as number);
}

export function parsePositiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`${flag} ${text}: expected a positive integer`);
  return n;
}

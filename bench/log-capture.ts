// While the bench runs, the engine's and kafkajs's log lines are counted instead of being
// printed between the progress bars: the report lists them (kafkajs logs retried broker
// errors, e.g. CONCURRENT_TRANSACTIONS, at error level). With LOG_LEVEL set they are
// printed as well.
import pino from 'pino';
import { logger } from '../src/observability/logger';

export interface LogCounts {
  /** "level: message" -> lines. */
  [line: string]: number;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export function captureLogs(): { counts: LogCounts; restore(): void } {
  const counts: LogCounts = {};
  const target = logger as unknown as Record<symbol, { write(line: string): void }>;
  const original = target[pino.symbols.streamSym];
  const echo = process.env.LOG_LEVEL !== undefined;
  if (!echo) logger.level = 'info';
  target[pino.symbols.streamSym] = {
    write(line: string) {
      try {
        const entry = JSON.parse(line) as { level: number; msg?: string; error?: string };
        const key = `${LEVELS[entry.level] ?? entry.level}: ${entry.msg ?? ''}${entry.error ? ` (${entry.error})` : ''}`.slice(0, 200);
        counts[key] = (counts[key] ?? 0) + 1;
      } catch {
        counts['(unparsed)'] = (counts['(unparsed)'] ?? 0) + 1;
      }
      if (echo) original.write(line);
    },
  };
  return { counts, restore: () => void (target[pino.symbols.streamSym] = original) };
}

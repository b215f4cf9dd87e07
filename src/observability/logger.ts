import pino from 'pino';
import pretty from 'pino-pretty';

// One logger; stages take child loggers. Secrets and personal values are redacted by path
// so a careless log line cannot leak them (before either format sees the line).
export const REDACT_PATHS = [
  'password', '*.password', 'secret', '*.secret', 'keys', '*.keys', 'pseudonymKeys', '*.pseudonymKeys',
  'sasl', '*.sasl', 'auth', '*.auth', 'value', '*.value', 'record', '*.record', 'headers', '*.headers',
];

export type LogFormat = 'json' | 'pretty';

/**
 * LOG_FORMAT=json|pretty wins; otherwise a person at a terminal reads pretty lines and
 * anything else (a pipe, a file, a container's log collector) gets one JSON object a line.
 * Logs go to stderr, so a command's own output on stdout (consume, rules) stays clean.
 */
export function logFormat(env: NodeJS.ProcessEnv = process.env, stderrIsTty = Boolean(process.stderr.isTTY)): LogFormat {
  const asked = env.LOG_FORMAT?.trim().toLowerCase();
  if (asked === 'json' || asked === 'pretty') return asked;
  return stderrIsTty ? 'pretty' : 'json';
}

export interface LoggerOptions {
  format: LogFormat;
  /** Defaults to stderr; tests pass a stream. Sync, so a line written just before exit is not lost. */
  destination?: pino.DestinationStream;
  /** Colours only make sense on a terminal. */
  colorize?: boolean;
  level?: string;
}

export function createLogger(o: LoggerOptions): pino.Logger {
  const destination = o.destination ?? pino.destination({ dest: 2, sync: true });
  const options: pino.LoggerOptions = {
    level: o.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'tracklane' },
  };
  if (o.format === 'json') return pino(options, destination);
  // pino-pretty as an in-process stream, not a worker-thread transport: no thread to start,
  // nothing left unflushed when the CLI exits.
  return pino(options, pretty({ destination, sync: true, colorize: o.colorize ?? false, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'service' }));
}

export const logger = createLogger({ format: logFormat(), colorize: Boolean(process.stderr.isTTY) });

export type Logger = pino.Logger;

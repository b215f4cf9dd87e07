import pino from 'pino';

// One logger; stages take child loggers. Secrets and personal values are redacted by path
// so a careless log line cannot leak them.
export const REDACT_PATHS = [
  'password', '*.password', 'secret', '*.secret', 'keys', '*.keys', 'pseudonymKeys', '*.pseudonymKeys',
  'sasl', '*.sasl', 'auth', '*.auth', 'value', '*.value', 'record', '*.record', 'headers', '*.headers',
];

export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  base: { service: 'tracklane' },
});

export type Logger = pino.Logger;

import type { Command } from 'commander';

/**
 * The environment variables, in one place (DESIGN.md section 3 and README's Configuration
 * table), and which command reads which: each command's --help ends with its own list.
 * test/unit/cli-help.test.ts holds this table to the names the code reads.
 */
export const ENV: Record<string, { default: string; meaning: string }> = {
  KAFKA_BROKERS: { default: '127.0.0.1:9092', meaning: 'bootstrap brokers, comma-separated' },
  KAFKA_SSL: { default: 'off', meaning: 'true: TLS to the brokers' },
  KAFKA_SSL_CA_FILE: { default: 'none', meaning: 'CA bundle for TLS to the brokers (turns TLS on)' },
  KAFKA_SASL_MECHANISM: { default: 'none', meaning: 'plain, scram-sha-256 or scram-sha-512' },
  KAFKA_SASL_USERNAME: { default: 'none', meaning: 'SASL user' },
  KAFKA_SASL_PASSWORD: { default: 'none', meaning: 'SASL password' },
  SCHEMA_REGISTRY_URL: { default: 'http://127.0.0.1:8081/apis/ccompat/v7', meaning: 'Confluent-compatible registry API' },
  SCHEMA_REGISTRY_USERNAME: { default: 'none', meaning: 'registry basic auth user' },
  SCHEMA_REGISTRY_PASSWORD: { default: 'none', meaning: 'registry basic auth password' },
  REDIS_URL: { default: 'redis://127.0.0.1:6379', meaning: 'redis:// or rediss://; a comma-separated list means Redis Cluster' },
  REDIS_USERNAME: { default: 'none', meaning: 'Redis ACL user (or put it in the URL)' },
  REDIS_PASSWORD: { default: 'none', meaning: 'Redis password (or put it in the URL)' },
  REDIS_TLS_CA_FILE: { default: 'none', meaning: 'CA bundle for rediss://' },
  TRACKLANE_PSEUDONYM_KEYS: { default: 'none', meaning: 'kid:secret[,kid2:secret2], first active; needed by a topology that pseudonymizes' },
  TRACKLANE_METRICS_PORT: { default: '9464', meaning: '/metrics, /healthz, /readyz and the status page' },
  TRACKLANE_CONSUMER_RESTART_TIMEOUT: { default: '60s', meaning: 'how long a crashed consumer may take to rejoin before run exits 1' },
  TRACKLANE_PAGERDUTY_ROUTING_KEY: { default: 'none', meaning: 'Events API v2 integration key for alerts forward --to pagerduty=URL (never logged)' },
  TRACKLANE_STACK_DIR: { default: '<package>/.stack', meaning: 'where the local stack keeps its downloads, data and logs' },
  TRACKLANE_STACK_TIMEOUT: { default: '120', meaning: 'seconds a component may take to become ready' },
  TRACKLANE_KAFKA_VERSION: { default: 'kafka.version in deploy/local/pom.xml', meaning: 'another Kafka 4.x for the local stack' },
  TRACKLANE_KAFKA_HEAP: { default: '-Xms256m -Xmx1g', meaning: 'JVM heap of the local Kafka' },
  TRACKLANE_REGISTRY_HEAP: { default: '-Xms128m -Xmx512m', meaning: 'JVM heap of the local registry' },
  LOG_LEVEL: { default: 'info', meaning: 'pino level: trace, debug, info, warn, error' },
  LOG_FORMAT: { default: 'pretty on a terminal, else json', meaning: 'json or pretty' },
};
export type EnvName = keyof typeof ENV;

const KAFKA = ['KAFKA_BROKERS', 'KAFKA_SSL', 'KAFKA_SSL_CA_FILE', 'KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'];
const REGISTRY = ['SCHEMA_REGISTRY_URL', 'SCHEMA_REGISTRY_USERNAME', 'SCHEMA_REGISTRY_PASSWORD'];
const REDIS = ['REDIS_URL', 'REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS_CA_FILE'];
const LOG = ['LOG_LEVEL', 'LOG_FORMAT'];
const STACK = ['TRACKLANE_STACK_DIR', 'TRACKLANE_STACK_TIMEOUT', 'TRACKLANE_KAFKA_VERSION', 'TRACKLANE_KAFKA_HEAP', 'TRACKLANE_REGISTRY_HEAP'];

/** What each top-level command reads (its subcommands read the same). */
export const COMMAND_ENV: Record<string, string[]> = {
  stack: STACK,
  check: [],
  contract: [...REGISTRY, ...LOG],
  init: [...KAFKA, ...REGISTRY, ...LOG],
  run: [...KAFKA, ...REGISTRY, ...REDIS, 'TRACKLANE_PSEUDONYM_KEYS', 'TRACKLANE_METRICS_PORT', 'TRACKLANE_CONSUMER_RESTART_TIMEOUT', ...LOG],
  produce: [...KAFKA, ...REGISTRY, ...LOG],
  consume: [...KAFKA, ...REGISTRY, ...LOG],
  rules: [],
  replay: [...KAFKA, ...REGISTRY, ...LOG],
  demo: [...KAFKA, ...REGISTRY, ...REDIS, 'TRACKLANE_PSEUDONYM_KEYS', 'TRACKLANE_METRICS_PORT', ...LOG],
  bench: [...KAFKA, ...REGISTRY, ...REDIS, ...LOG],
  sdk: [...REGISTRY, ...LOG],
  completion: [],
  slo: [],
  alerts: [...KAFKA, ...REGISTRY, 'TRACKLANE_PAGERDUTY_ROUTING_KEY', ...LOG],
};

/** The "Environment:" section of a command's help, or '' when it reads none. */
export function envHelp(names: readonly string[]): string {
  if (names.length === 0) return '';
  const width = Math.max(...names.map((n) => n.length));
  const rows = names.map((n) => `  ${n.padEnd(width)}  ${ENV[n].meaning} (default: ${ENV[n].default})`);
  return `\nEnvironment:\n${rows.join('\n')}\n`;
}

/** Adds each command's environment to its --help (and its subcommands'); the program's own help lists them all. */
export function attachEnvHelp(program: Command): void {
  for (const top of program.commands) {
    const names = COMMAND_ENV[top.name()];
    if (names === undefined) throw new Error(`src/cli/env-help.ts: command ${top.name()} has no entry in COMMAND_ENV`);
    const text = envHelp(names);
    if (!text) continue;
    for (const cmd of [top, ...top.commands]) cmd.addHelpText('after', text);
  }
  program.addHelpText('after', `${envHelp(Object.keys(ENV))}\nEach command's --help lists the variables it reads.\n`);
}

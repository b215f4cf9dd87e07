import fs from 'node:fs';
import type { Kafka, KafkaConfig, SASLOptions } from 'kafkajs';
import { UserError } from '../errors';
import { kafkaLogCreator, logLevel } from '../observability/client-log';

/**
 * Kafka connection from the environment (docs/security.md):
 * KAFKA_BROKERS, KAFKA_SSL=true, KAFKA_SSL_CA_FILE, KAFKA_SASL_MECHANISM=plain|scram-sha-256|scram-sha-512,
 * KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD.
 */
export function kafkaConfigFromEnv(clientId: string, env = process.env): KafkaConfig {
  const brokers = (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean);
  const config: KafkaConfig = { clientId, brokers, logLevel: logLevel.ERROR, logCreator: kafkaLogCreator, retry: { retries: 5 } };
  if (env.KAFKA_SSL === 'true' || env.KAFKA_SSL_CA_FILE) {
    config.ssl = env.KAFKA_SSL_CA_FILE ? { ca: [fs.readFileSync(env.KAFKA_SSL_CA_FILE, 'utf8')] } : true;
  }
  const mechanism = env.KAFKA_SASL_MECHANISM?.toLowerCase();
  if (mechanism) {
    if (!['plain', 'scram-sha-256', 'scram-sha-512'].includes(mechanism)) {
      throw new UserError(`KAFKA_SASL_MECHANISM=${mechanism} is not supported; use plain, scram-sha-256 or scram-sha-512`);
    }
    if (!env.KAFKA_SASL_USERNAME || !env.KAFKA_SASL_PASSWORD) throw new UserError('KAFKA_SASL_MECHANISM is set: set KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD too');
    config.sasl = { mechanism, username: env.KAFKA_SASL_USERNAME, password: env.KAFKA_SASL_PASSWORD } as SASLOptions;
  }
  return config;
}

/**
 * kafkajs is loaded here, on first use, not when this module is imported: the engine
 * installs its kafkajs patches (kafkajs-patches/) first, which must happen before kafkajs loads.
 */
export function createKafka(clientId: string, env = process.env): Kafka {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Kafka: KafkaClient } = require('kafkajs') as typeof import('kafkajs');
  return new KafkaClient(kafkaConfigFromEnv(clientId, env));
}

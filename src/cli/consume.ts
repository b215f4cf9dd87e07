import type { Command } from 'commander';
import type { KafkaMessage } from 'kafkajs';
import { Registry, registryOptionsFromEnv } from '../decode/registry';
import { toPlainJson } from '../decode/plain-json';
import { readWireFrame } from '../decode/wire';
import { action, parseFlagDuration, parsePositiveInt } from './command';
import { readTopic } from './read-topic';

/** Decodes a Confluent-framed value to plain JSON; values that do not decode are shown as base64. */
export async function decodeValue(registry: Registry, value: Buffer | null): Promise<unknown> {
  if (value === null) return null;
  try {
    const frame = readWireFrame(value);
    const writer = await registry.writerSchema(frame.schemaId);
    if (writer.kind === 'avro') return toPlainJson(writer.type.fromBuffer(frame.payload));
    return JSON.parse(frame.payload.toString('utf8'));
  } catch {
    return { undecodable_base64: value.toString('base64') };
  }
}

export function recordLine(topic: string, partition: number, message: KafkaMessage, value: unknown): string {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    if (v !== undefined) headers[k] = (Array.isArray(v) ? v[v.length - 1] : v).toString();
  }
  return JSON.stringify({
    topic, partition, offset: Number(message.offset), timestamp: Number(message.timestamp),
    key: message.key ? message.key.toString('utf8') : null, headers, value,
  });
}

export function registerConsume(program: Command): void {
  program
    .command('consume')
    .description('print records of a topic as JSON lines (value decoded through the registry)')
    .requiredOption('--topic <topic>', 'topic to read')
    .option('--from-beginning', 'start at the earliest offset')
    .option('--max <n>', 'stop after N records')
    .option('--idle-timeout <duration>', 'stop when nothing arrives for this long', '5s')
    .option('--read-committed', 'only records of committed transactions')
    .option('--raw', 'print the base64 of the value bytes instead of decoding')
    .action(
      action(async (opts: { topic: string; fromBeginning?: boolean; max?: string; idleTimeout: string; readCommitted?: boolean; raw?: boolean }) => {
        const registry = new Registry(registryOptionsFromEnv());
        await readTopic({
          topic: opts.topic,
          fromBeginning: !!opts.fromBeginning,
          readCommitted: !!opts.readCommitted,
          max: opts.max ? parsePositiveInt(opts.max, '--max') : undefined,
          idleMs: parseFlagDuration(opts.idleTimeout, '--idle-timeout'),
          onMessage: async (message, partition) => {
            const value = opts.raw ? message.value?.toString('base64') ?? null : await decodeValue(registry, message.value);
            process.stdout.write(recordLine(opts.topic, partition, message, value) + '\n');
          },
        });
      }),
    );
}

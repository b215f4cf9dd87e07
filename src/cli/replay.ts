import type { Command } from 'commander';
import type { Message } from 'kafkajs';
import { Registry, registryOptionsFromEnv } from '../decode/registry';
import { readWireFrame } from '../decode/wire';
import { DEAD_LETTER_REASONS, UserError } from '../errors';
import { deadLetterType, type DeadLetter } from '../sink/dead-letter';
import { PRODUCER_OPTIONS } from '../sink/producer';
import { createKafka } from '../source/kafka';
import { loadTopology } from '../topology/load';
import { action, parseFlagDuration } from './command';
import { readTopic } from './read-topic';

/**
 * Re-injects dead letters into their source topic with the original key, value and headers,
 * plus `tracklane-replayed-from`. A consumer group per topology remembers what was replayed,
 * so running replay twice does not inject twice.
 */
export async function replayDeadLetters(opts: { topology: string; reason?: string; idleMs: number }): Promise<{ replayed: number; skipped: number }> {
  const topology = loadTopology(opts.topology);
  if (opts.reason && !(DEAD_LETTER_REASONS as readonly string[]).includes(opts.reason)) {
    throw new UserError(`--reason ${opts.reason} is not a dead-letter reason`, [`reasons: ${DEAD_LETTER_REASONS.join(', ')}`]);
  }
  const sources = new Set(topology.sources.map((s) => s.topic));
  const registry = new Registry(registryOptionsFromEnv());
  const producer = createKafka(`tracklane-replay-${topology.name}`).producer(PRODUCER_OPTIONS);
  await producer.connect();
  let replayed = 0;
  let skipped = 0;
  const pending: Array<{ topic: string; message: Message }> = [];
  try {
    await readTopic({
      topic: topology.outputs.deadLetter.topic,
      fromBeginning: true,
      readCommitted: true,
      idleMs: opts.idleMs,
      groupId: `${topology.name}-replay${opts.reason ? `-${opts.reason.toLowerCase()}` : ''}`,
      onMessage: async (message) => {
        const frame = readWireFrame(message.value!);
        const writer = await registry.writerSchema(frame.schemaId);
        const letter = (writer.kind === 'avro' ? deadLetterType.fromBuffer(frame.payload, deadLetterType.createResolver(writer.type)) : undefined) as DeadLetter | undefined;
        if (!letter || (opts.reason && letter.reason !== opts.reason) || !sources.has(letter.source_topic)) {
          skipped++;
          return;
        }
        pending.push({
          topic: letter.source_topic,
          message: {
            key: letter.key, value: letter.value,
            headers: { ...letter.headers, 'tracklane-replayed-from': `${topology.outputs.deadLetter.topic}:${letter.source_partition}:${letter.source_offset}` },
          },
        });
        replayed++;
      },
    });
    for (const topic of sources) {
      const messages = pending.filter((p) => p.topic === topic).map((p) => p.message);
      if (messages.length) await producer.send({ topic, messages, acks: -1 });
    }
  } finally {
    await producer.disconnect();
  }
  return { replayed, skipped };
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('re-inject dead letters into their source topic')
    .requiredOption('-t, --topology <file>', 'topology YAML')
    .requiredOption('--from-dlq', 'read the topology\'s dead-letter topic')
    .option('--reason <code>', 'only dead letters with this reason')
    .option('--idle-timeout <duration>', 'stop when nothing arrives for this long', '3s')
    .action(
      action(async (opts: { topology: string; reason?: string; idleTimeout: string }) => {
        const r = await replayDeadLetters({ topology: opts.topology, reason: opts.reason, idleMs: parseFlagDuration(opts.idleTimeout, '--idle-timeout') });
        process.stderr.write(`replayed ${r.replayed} dead letters (${r.skipped} skipped)\n`);
      }),
    );
}

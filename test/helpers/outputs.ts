import avro from 'avsc';
import { readWireFrame } from '../../src/decode/wire';
import { Registry, registryOptionsFromEnv } from '../../src/decode/registry';
import type { DeadLetter } from '../../src/sink/dead-letter';
import { consumeAll, type ConsumedMessage } from './stack-env';

// Reads an output topic back and decodes it with the writer schema from the registry, the
// way any downstream consumer would.

const registry = new Registry(registryOptionsFromEnv());

export async function decode<T>(m: ConsumedMessage): Promise<T> {
  const frame = readWireFrame(m.value!);
  const writer = await registry.writerSchema(frame.schemaId);
  if (writer.kind !== 'avro') throw new Error('expected Avro');
  return writer.type.fromBuffer(frame.payload) as T;
}

export async function readDecoded<T>(topic: string, opts: { expected?: number; readCommitted?: boolean; timeoutMs?: number; idleMs?: number } = {}): Promise<Array<{ message: ConsumedMessage; value: T }>> {
  const messages = await consumeAll(topic, { readCommitted: opts.readCommitted ?? true, expected: opts.expected, timeoutMs: opts.timeoutMs ?? 120_000, idleMs: opts.idleMs ?? 3_000 });
  return Promise.all(messages.map(async (message) => ({ message, value: await decode<T>(message) })));
}

export type Enriched = Record<string, unknown> & {
  event_id: string;
  email: string | null;
  ip: string | null;
  tracklane: {
    correlation_id: string; correlation_generated: boolean; user_id: string | null; anonymous_id: string | null; session_id: string | null;
    event_time: number; source: { topic: string; partition: number; offset: number; schema_id: number; schema_version: number };
    steps: string[]; pseudonymized: string[]; pseudonym_key_id: string | null; sample_weight?: number | null;
  };
};
export type { DeadLetter };
export { avro };

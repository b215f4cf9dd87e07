import type avro from 'avsc';
import type { KafkaMessage, Message } from 'kafkajs';
import type { Registry } from '../../decode/registry';
import { readWireFrame } from '../../decode/wire';
import { formatCoordinates, REPLAY_ORIGIN_HEADER, REPLAYED_FROM_HEADER } from '../../dedupe/replay-header';
import { InfrastructureError } from '../../errors';
import { deadLetterType, type DeadLetter } from '../../sink/dead-letter';

/** Reads dead letters written under any version of the DeadLetter schema. */
export class LetterReader {
  private readonly resolvers = new Map<number, avro.Resolver>();
  constructor(private readonly registry: Registry) {}

  /** undefined for a record that is not a dead letter (not Confluent framed, another schema, corrupt). */
  async read(message: KafkaMessage): Promise<DeadLetter | undefined> {
    if (!message.value) return undefined;
    try {
      const frame = readWireFrame(message.value);
      let resolver = this.resolvers.get(frame.schemaId);
      if (!resolver) {
        const writer = await this.registry.writerSchema(frame.schemaId);
        if (writer.kind !== 'avro') return undefined;
        resolver = deadLetterType.createResolver(writer.type);
        this.resolvers.set(frame.schemaId, resolver);
      }
      return deadLetterType.fromBuffer(frame.payload, resolver) as DeadLetter;
    } catch (err) {
      // A registry outage is not the record's fault: let it stop the run (exit 2).
      if (err instanceof InfrastructureError) throw err;
      return undefined;
    }
  }
}

/**
 * The event as it was first read — key, value and headers — plus two headers: the dead
 * letter's own coordinates and the original's. Both replace any left from an earlier replay,
 * so they always name the dead letter being replayed now (its `headers` keep what it was).
 */
export function replayMessage(letter: DeadLetter, dlq: { topic: string; partition: number; offset: string }): Message {
  return {
    key: letter.key,
    value: letter.value,
    headers: {
      ...letter.headers,
      [REPLAYED_FROM_HEADER]: formatCoordinates(dlq),
      [REPLAY_ORIGIN_HEADER]: formatCoordinates({ topic: letter.source_topic, partition: letter.source_partition, offset: String(letter.source_offset) }),
    },
  };
}

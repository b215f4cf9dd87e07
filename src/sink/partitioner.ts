import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

// The Java client's default partitioning (murmur2 of the key, positive, modulo the partition
// count; round robin without a key), so a key lands where a Java or kafkajs producer would put
// it. kafkajs's own DefaultPartitioner computes the same murmur2 with 64-bit Long objects and
// filters the partition list for every message: about 6% of the engine's CPU in the bench
// profile (docs in bench/README.md). This one does it in 32-bit integer math.

const M = 0x5bd1e995;
const SEED = 0x9747b28c;

/** Kafka's Utils.murmur2: a signed 32-bit hash. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2] << 16;
  if (rest >= 2) h ^= data[whole + 1] << 8;
  if (rest >= 1) h = Math.imul(h ^ data[whole], M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const toPositive = (x: number) => x & 0x7fffffff;

/** For `kafka.producer({ createPartitioner })`: same choices as kafkajs's DefaultPartitioner. */
export const javaCompatiblePartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }: PartitionerArgs) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const key = message.key;
    if (key !== null && key !== undefined) {
      return toPositive(murmur2(Buffer.isBuffer(key) ? key : Buffer.from(String(key)))) % partitionMetadata.length;
    }
    const n = (counters.get(topic) ?? Math.floor(Math.random() * 0x7fffffff)) + 1;
    counters.set(topic, n);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    if (available.length > 0) return available[toPositive(n) % available.length].partitionId;
    return toPositive(n) % partitionMetadata.length;
  };
};

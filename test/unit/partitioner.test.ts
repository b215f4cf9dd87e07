import { randomBytes } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { javaCompatiblePartitioner, murmur2 } from '../../src/sink/partitioner';
import { prng } from '../../src/demo/traffic';

const metadata = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0, offlineReplicas: [] }));

describe('Java-compatible partitioner', () => {
  test('murmur2 matches values from Kafka\'s own UtilsTest', () => {
    // org.apache.kafka.common.utils.UtilsTest#testMurmur2
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from([97, 98, 99]))).toBe(479470107);
  });

  test('puts 20,000 random keys where kafkajs\'s DefaultPartitioner does, for 1 to 64 partitions', () => {
    const random = prng(20261125);
    const ours = javaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const wrong: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const n = 1 + Math.floor(random() * 64);
      const bytes = randomBytes(Math.floor(random() * 80));
      // Buffers of any bytes, and strings (kafkajs takes both), some of them not ASCII.
      const key = i % 3 === 0 ? `é-${bytes.toString('hex')}-✓` : bytes;
      const args = { topic: 't', partitionMetadata: metadata(n), message: { key, value: null } };
      const a = ours(args);
      const b = theirs(args);
      if (a !== b) wrong.push(`${String(key)} / ${n}: ${a} vs ${b}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  test('an explicit partition wins; without a key, round robin over partitions with a leader', () => {
    const p = javaCompatiblePartitioner();
    expect(p({ topic: 't', partitionMetadata: metadata(4), message: { key: 'k', value: null, partition: 3 } })).toBe(3);
    const parts = metadata(4).map((m) => (m.partitionId === 2 ? { ...m, leader: -1 } : m));
    const seen = new Set(Array.from({ length: 30 }, () => p({ topic: 'u', partitionMetadata: parts, message: { value: null } })));
    expect([...seen].sort()).toEqual([0, 1, 3]);
  });
});

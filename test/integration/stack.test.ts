// The local stack does what Tracklane needs from it, with the real clients and no mocks:
// Apicurio's Confluent API through @kafkajs/confluent-schema-registry, Kafka through
// kafkajs (groups, admin, transactions with sendOffsets, read_committed), Redis through
// ioredis. docs/stack.md cites this file as the kafkajs/broker compatibility evidence.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import Redis from 'ioredis';
import { ConfigResourceTypes } from 'kafkajs';
import {
  consumeAll,
  createTopics,
  deleteTopics,
  kafka,
  redisUrl,
  registryUrl,
  uniqueName,
} from '../helpers/stack-env';

const checkoutSchema = {
  type: 'record',
  name: 'CheckoutEvent',
  namespace: 'dev.tracklane.test',
  fields: [
    { name: 'event_id', type: 'string' },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'type', type: 'string' },
    { name: 'status', type: ['null', 'string'], default: null },
    { name: 'duration_ms', type: 'double' },
  ],
};

interface CheckoutEvent {
  event_id: string;
  ts: number;
  type: string;
  status: string | null;
  duration_ms: number;
}

const topics: string[] = [];
const subjects = new Set<string>();

function newTopic(prefix: string): string {
  const topic = uniqueName(`it-stack-${prefix}`);
  topics.push(topic);
  return topic;
}

async function register(registry: SchemaRegistry, subject: string): Promise<number> {
  subjects.add(subject);
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(checkoutSchema) },
    { subject },
  );
  return id;
}

function event(i: number): CheckoutEvent {
  return {
    event_id: `evt-${i}`,
    ts: 1_764_000_000_000 + i,
    type: 'checkout',
    status: i % 3 === 0 ? null : 'ok',
    duration_ms: 100 + i / 4,
  };
}

afterAll(async () => {
  await deleteTopics(topics);
  for (const subject of subjects) {
    // soft delete first: Confluent's API (and Apicurio's) only hard-deletes a soft-deleted subject
    await fetch(`${registryUrl()}/subjects/${encodeURIComponent(subject)}`, { method: 'DELETE' });
    await fetch(`${registryUrl()}/subjects/${encodeURIComponent(subject)}?permanent=true`, { method: 'DELETE' });
  }
});

describe('local stack', () => {
  const registry = new SchemaRegistry({ host: registryUrl() });

  test('registry: an Avro schema registers through the Confluent API and is read back', async () => {
    const subject = `${uniqueName('it-stack-registry')}-value`;
    const id = await register(registry, subject);
    expect(id).toBeGreaterThan(0);

    // registering the same schema again is idempotent: same id
    await expect(register(registry, subject)).resolves.toBe(id);
    await expect(registry.getLatestSchemaId(subject)).resolves.toBe(id);
    const schema = await registry.getSchema(id);
    expect(JSON.parse(JSON.stringify(schema))).toMatchObject({ name: 'dev.tracklane.test.CheckoutEvent' });

    const compat = await fetch(`${registryUrl()}/config/${encodeURIComponent(subject)}`);
    expect(await compat.json()).toEqual({ compatibilityLevel: 'BACKWARD' });
  });

  test('kafka: Confluent wire-format events round trip through a consumer group', async () => {
    const topic = newTopic('wire');
    await createTopics([topic], 3);
    const id = await register(registry, `${topic}-value`);

    const events = Array.from({ length: 30 }, (_, i) => event(i));
    const producer = kafka('it-stack-producer').producer({ idempotent: true });
    await producer.connect();
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: await Promise.all(
          events.map(async (e) => ({
            key: e.event_id,
            value: await registry.encode(id, e),
            headers: { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` },
          })),
        ),
      });
    } finally {
      await producer.disconnect();
    }

    const consumed = await consumeAll(topic, { readCommitted: true, expected: events.length });
    expect(consumed).toHaveLength(events.length);
    expect(new Set(consumed.map((m) => m.partition)).size).toBeGreaterThan(1);
    for (const m of consumed) {
      const value = m.value as Buffer;
      expect(value[0]).toBe(0); // magic byte
      expect(value.readInt32BE(1)).toBe(id);
      expect(m.headers?.traceparent?.toString()).toMatch(/^00-/);
    }
    const decoded = await Promise.all(consumed.map((m) => registry.decode(m.value as Buffer)));
    const byId = (a: CheckoutEvent, b: CheckoutEvent): number => a.ts - b.ts;
    expect((decoded as CheckoutEvent[]).map((d) => ({ ...d })).sort(byId)).toEqual(events);
    for (const m of consumed) {
      const value = (await registry.decode(m.value as Buffer)) as CheckoutEvent;
      expect(m.key?.toString()).toBe(value.event_id);
    }
  });

  test('kafka: consumer group offsets are committed and visible to the admin client', async () => {
    const topic = newTopic('group');
    await createTopics([topic], 2);
    const producer = kafka('it-stack-producer').producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    await producer.disconnect();

    const client = kafka('it-stack-group');
    const groupId = uniqueName('it-stack-group');
    const consumer = client.consumer({ groupId, maxWaitTimeInMs: 200 });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        seen.push(String(message.value));
        await consumer.commitOffsets([
          { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
        ]);
      },
    });
    const deadline = Date.now() + 30000;
    while (seen.length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await consumer.disconnect();
    expect(seen.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`).sort());

    const admin = client.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const ends = await admin.fetchTopicOffsets(topic);
      for (const p of committed.partitions) {
        expect(p.offset).toBe(ends.find((e) => e.partition === p.partition)?.high);
      }
      const described = await admin.describeGroups([groupId]);
      expect(described.groups[0].protocolType).toBe('consumer');

      await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] });
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0].partitions).toHaveLength(3);

      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
      });
      expect(configs.resources[0].configEntries[0].configValue).toBe('delete');
      await admin.deleteGroups([groupId]);
    } finally {
      await admin.disconnect();
    }
  });

  test('kafka: a transaction with sendOffsets commits; an aborted one stays invisible to read_committed', async () => {
    const input = newTopic('txn-in');
    const output = newTopic('txn-out');
    await createTopics([input], 1);
    await createTopics([output], 2);
    const client = kafka('it-stack-txn');

    const plain = client.producer();
    await plain.connect();
    await plain.send({ topic: input, messages: Array.from({ length: 5 }, (_, i) => ({ value: `in-${i}` })) });
    await plain.disconnect();

    // consume-transform-produce, as the engine does with delivery: exactly-once
    const groupId = uniqueName('it-stack-txn-group');
    const consumer = client.consumer({ groupId, maxWaitTimeInMs: 200 });
    const inputs: { value: string; offset: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: input, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        inputs.push({ value: String(message.value), offset: message.offset });
      },
    });
    const deadline = Date.now() + 30000;
    while (inputs.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await consumer.disconnect();
    expect(inputs).toHaveLength(5);

    const producer = client.producer({
      transactionalId: uniqueName('it-stack-txn-id'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({
        topic: output,
        messages: inputs.map((m) => ({ key: m.value, value: `out-${m.value}` })),
      });
      await committed.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic: input, partitions: [{ partition: 0, offset: String(Number(inputs[4].offset) + 1) }] }],
      });
      await committed.commit();

      const aborted = await producer.transaction();
      await aborted.send({
        topic: output,
        messages: [0, 1, 2].map((i) => ({ key: `aborted-${i}`, value: `aborted-${i}` })),
      });
      await aborted.abort();

      const after = await producer.transaction();
      await after.send({ topic: output, messages: [{ key: 'after', value: 'after-abort' }] });
      await after.commit();
    } finally {
      await producer.disconnect();
    }

    const admin = client.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [input] });
      expect(offsets.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '5' })]);
      await admin.deleteGroups([groupId]);
    } finally {
      await admin.disconnect();
    }

    const readCommitted = await consumeAll(output, { readCommitted: true, expected: 6 });
    expect(readCommitted.map((m) => String(m.value)).sort()).toEqual(
      [...inputs.map((m) => `out-${m.value}`), 'after-abort'].sort(),
    );
    // the aborted records were written: a read_uncommitted reader sees them
    const readUncommitted = await consumeAll(output, { readCommitted: false, expected: 9 });
    expect(readUncommitted.map((m) => String(m.value)).filter((v) => v.startsWith('aborted-')).sort()).toEqual([
      'aborted-0',
      'aborted-1',
      'aborted-2',
    ]);
  });

  test('redis: round trip under a random key prefix, cleaned up afterwards', async () => {
    const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
    const prefix = `${uniqueName('it-stack')}:`;
    try {
      await redis.set(`${prefix}plain`, 'value', 'PX', 60000);
      await redis.hset(`${prefix}hash`, { a: '1', b: '2' });
      const [, [, count]] = (await redis.multi().incr(`${prefix}n`).incrby(`${prefix}n`, 41).exec()) as [
        [Error | null, number],
        [Error | null, number],
      ];
      expect(count).toBe(42);
      expect(await redis.get(`${prefix}plain`)).toBe('value');
      expect(await redis.hgetall(`${prefix}hash`)).toEqual({ a: '1', b: '2' });
      expect(await redis.pttl(`${prefix}plain`)).toBeGreaterThan(0);
    } finally {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      expect(await redis.keys(`${prefix}*`)).toEqual([]);
      await redis.quit();
    }
  });
});

import type { EachBatchPayload, Kafka } from 'kafkajs';
import { InfrastructureError } from '../../src/errors';
import { createMetrics } from '../../src/observability/metrics';
import { logger } from '../../src/observability/logger';
import { ConsumeLoop, type Chunk } from '../../src/source/consume-loop';
import type { Topology } from '../../src/topology/types';

// The source's retry rule without a broker: a retriable failure pauses and retries the
// chunk; anything else is fatal at once, is reported once and is never retried.

const topology = { name: 'loop-test', sources: [{ name: 'web', topic: 'raw' }] } as unknown as Topology;
const silent = logger.child({});
silent.level = 'silent';

function payload(count: number, partition = 0) {
  const resolved: string[] = [];
  let paused = 0;
  const p = {
    batch: { topic: 'raw', partition, highWatermark: String(count), messages: Array.from({ length: count }, (_, i) => ({ offset: String(i), value: Buffer.from('x') })) },
    isRunning: () => true,
    isStale: () => false,
    pause: () => { paused++; return () => undefined; },
    resolveOffset: (o: string) => resolved.push(o),
    heartbeat: async () => undefined,
  };
  return { p: p as unknown as EachBatchPayload, resolved, paused: () => paused };
}

function loop(handle: (chunk: Chunk) => Promise<void>, fatal: (err: unknown) => void) {
  const metrics = createMetrics('loop-test');
  const l = new ConsumeLoop({ kafka: {} as Kafka, topology, handle, connected: async () => undefined, fatal, metrics, log: silent, chunkSize: 2 });
  return { l, metrics, eachBatch: (p: EachBatchPayload) => (l as unknown as { eachBatch(p: EachBatchPayload): Promise<void> }).eachBatch(p) };
}

describe('ConsumeLoop', () => {
  it('retries a retriable failure with the partition paused, then goes on', async () => {
    let calls = 0;
    const fatal = jest.fn();
    const { eachBatch, metrics } = loop(async () => {
      if (++calls === 1) throw new InfrastructureError('redis', 'Connection is closed');
    }, fatal);
    const { p, resolved, paused } = payload(4);
    await eachBatch(p);
    expect(resolved).toEqual(['1', '3']);
    expect(paused()).toBe(1);
    expect(fatal).not.toHaveBeenCalled();
    expect((await metrics.infraRetries.get()).values.find((v) => v.labels.dependency === 'redis')?.value).toBe(1);
  });

  it('reports a non-retriable error as fatal once, retries nothing and handles no further chunk', async () => {
    const fatal = jest.fn();
    let calls = 0;
    const { eachBatch } = loop(async () => {
      calls++;
      throw new TypeError("Cannot read properties of undefined (reading 'send')");
    }, fatal);
    const { p, resolved, paused } = payload(4);
    await eachBatch(p);
    await eachBatch(p); // kafkajs fetching the same unresolved offsets again
    expect(calls).toBe(1);
    expect(resolved).toEqual([]);
    expect(paused()).toBe(0);
    expect(fatal).toHaveBeenCalledTimes(1);
    expect(fatal.mock.calls[0][0]).toBeInstanceOf(TypeError);
  });

  it('treats a kafkajs error marked non-retriable as fatal, and one marked retriable as an outage', async () => {
    const fatal = jest.fn();
    const tooLarge = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE', retriable: false });
    const { eachBatch } = loop(async () => { throw tooLarge; }, fatal);
    await eachBatch(payload(2).p);
    expect(fatal).toHaveBeenCalledWith(tooLarge);

    let calls = 0;
    const fatal2 = jest.fn();
    const second = loop(async () => {
      if (++calls === 1) throw Object.assign(new Error('Connection timeout'), { name: 'KafkaJSConnectionError', retriable: true });
    }, fatal2);
    const { p, resolved } = payload(2);
    await second.eachBatch(p);
    expect(resolved).toEqual(['1']);
    expect(fatal2).not.toHaveBeenCalled();
  });

  it('exports lag only for partitions this member owns: a rebalance removes the series of revoked ones', async () => {
    const { l, eachBatch, metrics } = loop(async () => undefined, jest.fn());
    const joined = (a: Record<string, number[]>) => (l as unknown as { onJoined(a: Record<string, number[]>): void }).onJoined(a);
    const lagPartitions = async () => (await metrics.consumerLag.get()).values.map((v) => v.labels.partition).sort();
    joined({ raw: [0, 1] });
    await eachBatch(payload(4, 0).p);
    await eachBatch(payload(4, 1).p);
    expect(await lagPartitions()).toEqual(['0', '1']);
    joined({ raw: [1, 2] });
    expect(await lagPartitions()).toEqual(['1']);
    // a chunk of the revoked partition that finishes after the join does not bring it back
    await eachBatch(payload(4, 0).p);
    expect(await lagPartitions()).toEqual(['1']);
    await eachBatch(payload(4, 2).p);
    expect(await lagPartitions()).toEqual(['1', '2']);
  });
});

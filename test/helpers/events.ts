import { randomBytes } from 'node:crypto';
import type { PipelineEvent, StageContext } from '../../src/pipeline/event';
import type { SourceSpec, Topology } from '../../src/topology/types';
import { logger } from '../../src/observability/logger';
import type { RedisClient } from '../../src/state/redis';
import { deleteKeysWithPrefix } from '../../src/state/scan';

// Hand-built pipeline events and contexts for stage tests, plus Redis test hygiene:
// a random topology name per test file and deletion of its keys afterwards.

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function randomName(prefix = 't'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export function testSource(topic = 'raw.test'): SourceSpec {
  return {
    name: 'web',
    topic,
    format: 'avro',
    subject: `${topic}-value`,
    partitions: 2,
    eventTime: { field: 'ts', maxFutureSkewMs: 300_000 },
    idempotencyKey: 'event_id',
    maxValueBytes: 1_000_000,
    readerSchema: 'latest',
  };
}

export interface EventInit {
  topic?: string;
  partition?: number;
  offset?: number | string;
  value?: Buffer | string | null;
  record?: Record<string, unknown>;
  idempotencyKey?: string;
  eventTime?: number;
  timestamp?: number;
}

export function makeEvent(init: EventInit = {}): PipelineEvent {
  const topic = init.topic ?? 'raw.test';
  const value = typeof init.value === 'string' ? Buffer.from(init.value) : init.value ?? Buffer.from(JSON.stringify(init.record ?? {}));
  const timestamp = init.timestamp ?? init.eventTime ?? 1_700_000_000_000;
  return {
    source: testSource(topic),
    topic,
    partition: init.partition ?? 0,
    offset: String(init.offset ?? 0),
    timestamp,
    key: null,
    value,
    headers: {},
    record: init.record ?? {},
    idempotencyKey: init.idempotencyKey,
    eventTime: init.eventTime ?? timestamp,
    meta: { steps: [], pseudonymized: [] },
  };
}

export function makeContext(topologyName: string): StageContext {
  const topology: Topology = {
    file: 'topologies/test.yaml',
    name: topologyName,
    version: 1,
    delivery: 'exactly-once',
    sources: [testSource()],
    enrich: [],
    outputs: {
      enriched: { topic: 'enriched.test' },
      deadLetter: { topic: 'dlq.test' },
      metrics: { topic: 'slo.metrics' },
      alerts: { topic: 'slo.alerts', format: 'avro' },
    },
    windows: { bucketMs: 60_000, allowedLatenessMs: 120_000, idleTimeoutMs: 30_000 },
    slis: [],
    slos: [],
  };
  return { topology, instanceId: 'test', log: logger.child({ test: true }) };
}

/** Deletes every key under a keys() prefix such as `tltest:{t-abc}`. */
export async function deleteKeys(redis: RedisClient, prefix: string): Promise<number> {
  return deleteKeysWithPrefix(redis, `${prefix}:`);
}

/** Counts commands the client sends (every script call, pipeline entry or plain command). */
export function countCommands(redis: RedisClient): { readonly count: number; names: string[]; reset(): void } {
  const names: string[] = [];
  const target = redis as unknown as { sendCommand: (...a: unknown[]) => unknown };
  const original = target.sendCommand.bind(redis);
  target.sendCommand = (...a: unknown[]) => {
    names.push(String((a[0] as { name?: string }).name));
    return original(...a);
  };
  return {
    get count() { return names.length; },
    names,
    reset() { names.length = 0; },
  };
}

import type { ProducerConfig } from 'kafkajs';
import { javaCompatiblePartitioner } from './partitioner';

/**
 * What every Tracklane producer shares (engine, SDK, CLI): idempotent with one request in
 * flight, so kafkajs's retries never duplicate or reorder; no topic auto-creation (init owns
 * topics); and the Java client's key partitioning, computed cheaply (partitioner.ts).
 */
export const PRODUCER_OPTIONS = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  createPartitioner: javaCompatiblePartitioner,
} as const satisfies ProducerConfig;

import fs from 'node:fs';
import type { ITopicConfig } from 'kafkajs';
import { Registry, registryOptionsFromEnv } from '../decode/registry';
import { ReaderSchemas } from '../decode/reader';
import { DataError, UserError } from '../errors';
import { withRetry } from '../errors/retry';
import { logger } from '../observability/logger';
import { registerOutputSchemas } from '../sink/schemas';
import { createKafka } from '../source/kafka';
import type { Topology } from '../topology/types';

// Provisioning: the topics and schemas a topology needs. `tracklane init`, the tests and the
// bench all use this one.

/** Topics a topology needs, with partitions and configs. Outputs default to the largest source. */
export function topicsOf(topology: Topology): ITopicConfig[] {
  const defaultPartitions = Math.max(...topology.sources.map((s) => s.partitions));
  const o = topology.outputs;
  return [
    ...topology.sources.map((s) => ({ topic: s.topic, numPartitions: s.partitions })),
    { topic: o.enriched.topic, numPartitions: o.enriched.partitions ?? defaultPartitions },
    { topic: o.deadLetter.topic, numPartitions: o.deadLetter.partitions ?? defaultPartitions },
    // Only a topology with SLIs or SLOs has (and needs) the metrics and alerts outputs.
    ...(o.metrics ? [{ topic: o.metrics.topic, numPartitions: o.metrics.partitions ?? 1 }] : []),
    // Alerts are keyed by dedup_key: compaction keeps each alert's latest transition.
    ...(o.alerts
      ? [{
          topic: o.alerts.topic,
          numPartitions: o.alerts.partitions ?? 1,
          configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' }, { name: 'retention.ms', value: String(90 * 86_400_000) }],
        }]
      : []),
  ];
}

/** Creates missing topics and registers schemas. Safe to run again. */
export async function initTopology(topology: Topology, env = process.env): Promise<{ created: string[]; existing: string[]; subjects: string[] }> {
  const admin = createKafka(`tracklane-init-${topology.name}`, env).admin();
  await admin.connect();
  try {
    const wanted = topicsOf(topology);
    const have = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !have.has(t.topic));
    // kafkajs's waitForLeaders only waits out LEADER_NOT_AVAILABLE; a loaded broker may answer
    // UNKNOWN_TOPIC_OR_PARTITION for a moment after creation, which made it throw. Our own
    // poll below waits for both, so it alone is in charge.
    if (missing.length) await admin.createTopics({ topics: missing, waitForLeaders: false });
    await withRetry(() => admin.fetchTopicMetadata({ topics: wanted.map((t) => t.topic) }), {
      log: logger,
      what: 'wait for the new topics\' leaders',
      isRetriable: () => true,
      attempts: 50,
      baseMs: 200,
      capMs: 400,
    });
    const registry = new Registry(registryOptionsFromEnv(env));
    const subjects: string[] = [];
    for (const source of topology.sources) {
      if (!source.schema) continue;
      const text = fs.readFileSync(source.schema, 'utf8');
      try {
        await registry.register(source.subject, text, source.format === 'avro' ? 'avro' : 'json');
      } catch (err) {
        if (err instanceof DataError) throw new UserError(`schema ${source.schema} cannot be registered under ${source.subject}: ${err.message}`, ['make the new version backward compatible (add fields with defaults), or use a new subject']);
        throw err;
      }
      subjects.push(source.subject);
    }
    const readers = await ReaderSchemas.load(registry, topology.sources);
    await registerOutputSchemas(registry, topology, readers);
    subjects.push(`${topology.outputs.enriched.topic}-value`, `${topology.outputs.deadLetter.topic}-value`);
    return { created: missing.map((t) => t.topic), existing: wanted.filter((t) => have.has(t.topic)).map((t) => t.topic), subjects };
  } finally {
    await admin.disconnect();
  }
}

import type { PipelineEvent, Stage, TracklaneMeta } from '../pipeline/event';
import { isLive } from '../pipeline/event';
import type { Topology } from '../topology/types';

/**
 * The last step: where the event came from and what touched it. Runs after every
 * configured step so `steps` lists them in order.
 */
export function createLineageStep(topology: Topology, instanceId: string, now: () => number = Date.now): Stage {
  return {
    name: 'lineage',
    async process(batch) {
      const processedAt = now();
      for (const ev of batch) if (isLive(ev)) complete(ev, topology, instanceId, processedAt);
    },
  };
}

function complete(ev: PipelineEvent, topology: Topology, instanceId: string, processedAt: number): void {
  const m = ev.meta;
  m.correlation_id ??= null;
  m.correlation_generated ??= false;
  m.user_id ??= null;
  m.anonymous_id ??= null;
  m.session_id ??= null;
  m.pseudonym_key_id ??= null;
  m.consent ??= null;
  m.sample_weight ??= null;
  m.event_time = ev.eventTime!;
  m.ingested_at = ev.timestamp;
  m.processed_at = processedAt;
  m.clock_skew_ms = ev.timestamp - ev.eventTime!;
  m.source = {
    topic: ev.topic, partition: ev.partition, offset: Number(ev.offset),
    schema_id: ev.schemaId ?? -1, subject: ev.source.subject, schema_version: ev.schemaVersion ?? -1,
  };
  m.pipeline = { name: topology.name, version: topology.version, instance: instanceId };
  m.steps.push('lineage');
}

/** Narrows the meta after lineage ran: every field is set. */
export function fullMeta(ev: PipelineEvent): TracklaneMeta {
  return ev.meta as TracklaneMeta;
}

import { DataError } from '../errors';
import type { PipelineEvent } from '../pipeline/event';
import { fail } from '../pipeline/event';
import type { Topology } from '../topology/types';
import type { OutputBuilder } from './output';
import { deadLetterMessage } from './dead-letter';
import { enrichedMessage } from './enriched';
import { tooLargeForTopic, type TopicLimits } from './limits';
import type { OutputMessage } from './output';
import type { OutputSchemas } from './schemas';

/** Every input event becomes exactly one enriched record, one dead letter, or a counted drop. */
export function createOutputBuilder(topology: Topology, schemas: OutputSchemas, now: () => number = Date.now, limits: TopicLimits = new Map()): OutputBuilder {
  return {
    build(events: PipelineEvent[]): OutputMessage[] {
      const out: OutputMessage[] = [];
      const failedAt = now();
      for (const ev of events) {
        if (!ev.failure && !ev.dropped) {
          const target = schemas.enriched.get(ev.source.name)!;
          try {
            const message = enrichedMessage(ev, topology.outputs.enriched.topic, target.encode);
            // A record above the topic's max.message.bytes could never be delivered.
            if (!tooLargeForTopic(message, limits)) {
              out.push(message);
              continue;
            }
            fail(ev, { reason: 'OVERSIZE', message: `the enriched record has ${message.value.length} bytes, above max.message.bytes of ${message.topic}`, stage: 'sink' });
          } catch (err) {
            if (!(err instanceof DataError)) throw err;
            fail(ev, { reason: err.reason, message: err.message, stage: 'sink' });
          }
        }
        if (ev.failure) out.push(deadLetterMessage(ev, topology, schemas.deadLetterId, failedAt));
      }
      return out;
    },
  };
}

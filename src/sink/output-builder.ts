import { DataError } from '../errors';
import type { PipelineEvent } from '../pipeline/event';
import { fail } from '../pipeline/event';
import type { Topology } from '../topology/types';
import type { OutputBuilder } from './output';
import { deadLetterMessage } from './dead-letter';
import { enrichedMessage } from './enriched';
import type { OutputMessage } from './output';
import type { OutputSchemas } from './schemas';

/** Every input event becomes exactly one enriched record, one dead letter, or a counted drop. */
export function createOutputBuilder(topology: Topology, schemas: OutputSchemas, now: () => number = Date.now): OutputBuilder {
  return {
    build(events: PipelineEvent[]): OutputMessage[] {
      const out: OutputMessage[] = [];
      const failedAt = now();
      for (const ev of events) {
        if (!ev.failure && !ev.dropped) {
          const target = schemas.enriched.get(ev.source.name)!;
          try {
            out.push(enrichedMessage(ev, topology.outputs.enriched.topic, target.encode));
            continue;
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

import { generatedCorrelationId } from '../../../src/enrich/correlation';
import { sessionId } from '../../../src/enrich/session';
import type { PipelineEvent } from '../../../src/pipeline/event';
import type { Topology } from '../../../src/topology/types';
import type { InputStep } from './input';
import { stripToken } from './case';

// Ids the engine derives from names this run randomized: the same input gives other bytes
// on every run. Each possible id is computed from the run's names and mapped to a label
// that says what it was derived from, so the expected files can say which one must appear.

export interface SentCoordinates {
  topic: string;
  partition: number;
  offset: number;
}

/** `<generated from raw.x|0|3>` for the id generated for each sent record. */
export function correlationAliases(sent: SentCoordinates[], token: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of sent) {
    const id = generatedCorrelationId({ topic: s.topic, partition: s.partition, offset: String(s.offset) } as PipelineEvent);
    out.set(id, `<generated from ${stripToken(s.topic, token)}|${s.partition}|${s.offset}>`);
  }
  return out;
}

/**
 * `<session user_id=u-1 from 2026-01-05T10:00:00.000Z>` for every session the input could
 * open: any value of a `by` field or an identity field, under any `by` field name (identity
 * may resolve an anonymous event to a user id), starting at any input event time.
 */
export function sessionAliases(topology: Topology, steps: InputStep[]): Map<string, string> {
  const out = new Map<string, string>();
  const session = topology.enrich.find((s) => s.kind === 'session');
  if (!session || session.kind !== 'session') return out;
  const identity = topology.enrich.find((s) => s.kind === 'identity');
  const idFields = identity?.kind === 'identity' ? [identity.anonymousId, identity.userId] : [];
  const fields = new Set([...session.by, ...idFields]);
  const values = new Set<string>();
  const times = new Set<number>();
  for (const step of steps) {
    if (step.kind !== 'record' || !step.record.value) continue;
    const record = step.record.value;
    for (const f of fields) if (typeof record[f] === 'string' || typeof record[f] === 'number') values.add(String(record[f]));
    for (const source of topology.sources) {
      const t = record[source.eventTime.field];
      const ms = typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : NaN;
      if (Number.isFinite(ms)) times.add(ms);
    }
  }
  for (const by of session.by) {
    for (const v of values) {
      for (const t of times) {
        const id = sessionId(topology.name, `${by}=${v}`, t);
        const label = `<session ${by}=${v} from ${new Date(t).toISOString()}>`;
        out.set(id, label);
        out.set(`session|${id}`, `session|${label}`); // the key of a tracklane.SessionMerged record
      }
    }
  }
  return out;
}

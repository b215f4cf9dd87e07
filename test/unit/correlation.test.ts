import avro from 'avsc';
import { createCorrelationStep, generatedCorrelationId } from '../../src/enrich/correlation';
import { deriveEnrichedSchema } from '../../src/enrich/derive-schema';
import { createLineageStep } from '../../src/enrich/lineage';
import { parseTraceparent } from '../../src/decode/traceparent';
import type { PipelineEvent, StageContext } from '../../src/pipeline/event';
import { currentTraceparent, withTraceparent } from '../../src/sdk/trace-context';
import { loadTopologyText } from '../../src/topology/load';
import type { CorrelationStep, Topology } from '../../src/topology/types';
import { ORDER_V2 } from '../helpers/engine-fixture';

const ctx = {} as StageContext;
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const TP = `00-${TRACE}-00f067aa0ba902b7-01`;

function event(record: Record<string, unknown>, headers: Record<string, string> = {}, offset = '7'): PipelineEvent {
  const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v, 'latin1')]));
  return {
    source: { subject: 'raw.t-value' } as PipelineEvent['source'], topic: 'raw.t', partition: 1, offset, timestamp: 1, key: null, value: null,
    headers: h, record, meta: { steps: [], pseudonymized: [] }, eventTime: 1,
  };
}

describe('W3C traceparent (Trace Context level 1)', () => {
  it.each([
    [TP, { traceId: TRACE, parentId: '00f067aa0ba902b7', flags: '01', version: '00' }],
    [`00-${TRACE}-00f067aa0ba902b7-00`, { traceId: TRACE, flags: '00' }],
    // A later version may append fields after a dash; its first four are read as version 00's.
    [`01-${TRACE}-00f067aa0ba902b7-01-what-comes-next`, { traceId: TRACE, version: '01' }],
    [`cc-${TRACE}-00f067aa0ba902b7-09`, { traceId: TRACE, version: 'cc' }],
  ])('accepts %s', (header, expected) => {
    expect(parseTraceparent(header)).toMatchObject({ ok: true, value: expected });
  });

  it.each([
    [`ff-${TRACE}-00f067aa0ba902b7-01`, 'unsupported_version'],
    ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'zero_trace_id'],
    [`00-${TRACE}-0000000000000000-01`, 'zero_parent_id'],
    [TP.toUpperCase(), 'malformed'],
    [`00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01`, 'malformed'],
    [`00-${TRACE}-00f067aa0ba902b7-01-extra`, 'malformed'], // version 00 is exactly 55 characters
    [`00-${TRACE}-00f067aa0ba902b7-1`, 'malformed'],
    [`00-${TRACE.slice(1)}-00f067aa0ba902b7-01`, 'malformed'],
    [`00-${TRACE}-00f067aa0ba902b-01`, 'malformed'],
    [`01-${TRACE}-00f067aa0ba902b7-01x`, 'malformed'], // later versions: a dash after the flags
    [`0-${TRACE}-00f067aa0ba902b7-01`, 'malformed'],
    [` ${TP}`, 'malformed'],
    ['', 'malformed'],
    ['garbage', 'malformed'],
  ])('rejects %s as %s', (header, reason) => {
    expect(parseTraceparent(header)).toEqual({ ok: false, reason });
  });
});

describe('correlation step', () => {
  function run(step: Omit<CorrelationStep, 'kind'>, events: PipelineEvent[]) {
    const invalid: string[] = [];
    const stage = createCorrelationStep({ kind: 'correlation', ...step }, { onInvalid: (reason) => invalid.push(reason) });
    return stage.process(events, ctx).then(() => invalid);
  }

  it('with generate: false an event without an id gets correlation_id null, not a generated flag', async () => {
    const none = event({ correlation_id: null });
    const found = event({ correlation_id: 'c-1' });
    await run({ field: 'correlation_id', header: 'traceparent', generate: false }, [none, found]);
    expect([none.meta.correlation_id, none.meta.correlation_generated]).toEqual([null, false]);
    expect([found.meta.correlation_id, found.meta.correlation_generated]).toEqual(['c-1', false]);
  });

  it('with generate: true a stable id is generated and flagged', async () => {
    const none = event({ correlation_id: '' });
    await run({ field: 'correlation_id', header: 'traceparent', generate: true }, [none]);
    expect([none.meta.correlation_id, none.meta.correlation_generated]).toEqual([generatedCorrelationId(event({}, {}, '7')), true]);
  });

  it('treats an invalid traceparent as absent and counts it by reason', async () => {
    const events = [
      event({}, { traceparent: `ff-${TRACE}-00f067aa0ba902b7-01` }),
      event({}, { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' }),
      event({}, { traceparent: TP.toUpperCase() }),
      event({}, { traceparent: TP }),
      event({}, {}),
    ];
    const invalid = await run({ header: 'traceparent', generate: false }, events);
    expect(events.map((e) => e.meta.correlation_id)).toEqual([null, null, null, TRACE, null]);
    expect(invalid).toEqual(['unsupported_version', 'zero_trace_id', 'malformed']);
  });

  it('reads the header when no field is named, and prefers the field when there is one', async () => {
    const a = event({ correlation_id: 'from-field' }, { traceparent: TP });
    await run({ header: 'traceparent', generate: true }, [a]);
    expect(a.meta.correlation_id).toBe(TRACE);
    const b = event({ correlation_id: 'from-field' }, { traceparent: TP });
    await run({ field: 'correlation_id', header: 'traceparent', generate: true }, [b]);
    expect(b.meta.correlation_id).toBe('from-field');
  });

  it('counts an over-long field value and ignores it', async () => {
    const e = event({ correlation_id: 'x'.repeat(129) }, { traceparent: TP });
    expect(await run({ field: 'correlation_id', header: 'traceparent', generate: true }, [e])).toEqual(['field_too_long']);
    expect(e.meta.correlation_id).toBe(TRACE);
  });

  it('the enriched record carries a null correlation_id (the derived schema allows it)', async () => {
    const ev = event({ correlation_id: null });
    await run({ header: 'traceparent', generate: false }, [ev]);
    await createLineageStep({ name: 't', version: 1 } as Topology, 'i').process([ev], ctx);
    const type = avro.Type.forSchema(deriveEnrichedSchema(ORDER_V2, [], []) as avro.Schema);
    const record = { event_id: 'e', ts: 1, type: 't', status: 's', region: 'eu', duration_ms: 1, email: null, ip: null, anonymous_id: null, user_id: null, correlation_id: null, note: null, consent_analytics: true };
    const back = type.fromBuffer(type.toBuffer({ ...record, tracklane: ev.meta })) as { tracklane: { correlation_id: unknown; correlation_generated: unknown } };
    expect([back.tracklane.correlation_id, back.tracklane.correlation_generated]).toEqual([null, false]);
  });
});

describe('topology', () => {
  it('accepts correlation: { header: traceparent } without a field', () => {
    const t = loadTopologyText(
      `apiVersion: tracklane/v1
kind: Topology
metadata: { name: c, version: 1 }
spec:
  sources: [{ name: web, topic: raw.c, eventTime: { field: ts }, idempotencyKey: event_id }]
  enrich:
    - correlation: { header: traceparent }
  outputs: { enriched: { topic: enriched.c }, deadLetter: { topic: dlq.c } }
`,
      'c.yaml',
    );
    expect(t.enrich).toEqual([{ kind: 'correlation', header: 'traceparent', generate: true }]);
  });
});

describe('SDK trace context', () => {
  it('runs without a trace context when the header is not a valid traceparent', () => {
    expect(withTraceparent(TP, () => currentTraceparent())).toBe(TP);
    expect(withTraceparent(` ${TP} `, () => currentTraceparent())).toBe(TP); // HTTP whitespace around a value
    expect(withTraceparent(TP.toUpperCase(), () => currentTraceparent())).toBeUndefined();
    expect(withTraceparent(`ff-${TRACE}-00f067aa0ba902b7-01`, () => currentTraceparent())).toBeUndefined();
    expect(withTraceparent(`00-${TRACE}-0000000000000000-01`, () => currentTraceparent())).toBeUndefined();
  });
});

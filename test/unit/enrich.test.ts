import crypto from 'node:crypto';
import avro from 'avsc';
import { traceIdFromTraceparent, createCorrelationStep, generatedCorrelationId } from '../../src/enrich/correlation';
import { parsePseudonymKeys, pseudonym } from '../../src/enrich/pseudonym-keys';
import { createPseudonymizeStep } from '../../src/enrich/pseudonymize';
import { consentState, createConsentStep } from '../../src/enrich/consent';
import { deriveEnrichedSchema } from '../../src/enrich/derive-schema';
import { UserError } from '../../src/errors';
import type { PipelineEvent, StageContext } from '../../src/pipeline/event';
import { ORDER_V2 } from '../helpers/engine-fixture';

const ctx = {} as StageContext;
function event(record: Record<string, unknown>, headers: Record<string, Buffer> = {}, offset = '7'): PipelineEvent {
  return {
    source: {} as PipelineEvent['source'], topic: 'raw.t', partition: 1, offset, timestamp: 1, key: null, value: null,
    headers, record, meta: { steps: [], pseudonymized: [] },
  };
}

describe('correlation', () => {
  const step = createCorrelationStep({ kind: 'correlation', field: 'correlation_id', header: 'traceparent', generate: true });
  it('takes the W3C trace id, the field first, and generates a stable id otherwise', async () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(traceIdFromTraceparent(tp)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdFromTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
    expect(traceIdFromTraceparent('garbage')).toBeUndefined();
    const a = event({ correlation_id: 'c-1' }, { traceparent: Buffer.from(tp) });
    const b = event({ correlation_id: null }, { traceparent: Buffer.from(tp) });
    const c = event({ correlation_id: '' }, { traceparent: Buffer.from('nonsense') });
    await step.process([a, b, c], ctx);
    expect([a.meta.correlation_id, a.meta.correlation_generated]).toEqual(['c-1', false]);
    expect([b.meta.correlation_id, b.meta.correlation_generated]).toEqual(['4bf92f3577b34da6a3ce929d0e0e4736', false]);
    expect(c.meta.correlation_generated).toBe(true);
    expect(c.meta.correlation_id).toBe(generatedCorrelationId(event({}, {}, '7')));
    expect(generatedCorrelationId(event({}, {}, '8'))).not.toBe(c.meta.correlation_id);
  });
});

describe('pseudonymize', () => {
  it('parses keys, refuses bad ones without quoting secrets', () => {
    expect(parsePseudonymKeys('k2:0123456789abcdefXX,k1:abcdefabcdefabcdef').map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(() => parsePseudonymKeys(undefined)).toThrow(UserError);
    expect(() => parsePseudonymKeys('k1:short')).toThrow(/shorter than 16/);
    expect(() => parsePseudonymKeys(':nokeyid-0123456789')).toThrow(/key id/);
    try { parsePseudonymKeys('k1:tooshort'); } catch (e) { expect((e as Error).message).not.toContain('tooshort'); }
  });

  it('replaces personal fields with kid:hmac under the first key and records it', async () => {
    const env = { TRACKLANE_PSEUDONYM_KEYS: 'new:secret-new-0123456789,old:secret-old-0123456789' };
    const step = createPseudonymizeStep({ kind: 'pseudonymize', fields: ['email', 'ip'] }, env);
    const ev = event({ email: 'a@b.example', ip: null });
    await step.process([ev], ctx);
    const expected = 'new:' + crypto.createHmac('sha256', 'secret-new-0123456789').update('a@b.example').digest('hex');
    expect(ev.record!.email).toBe(expected);
    expect(pseudonym(parsePseudonymKeys(env.TRACKLANE_PSEUDONYM_KEYS)[0], 'a@b.example')).toBe(expected);
    expect(ev.record!.ip).toBeNull();
    expect(ev.meta.pseudonymized).toEqual(['email']);
    expect(ev.meta.pseudonym_key_id).toBe('new');
  });

  it('refuses to start without a key', () => {
    expect(() => createPseudonymizeStep({ kind: 'pseudonymize', fields: ['email'] }, {})).toThrow(/TRACKLANE_PSEUDONYM_KEYS/);
  });
});

describe('consent', () => {
  it('reads consent values', () => {
    expect([false, 'denied', 'NO', 0].map(consentState)).toEqual(['denied', 'denied', 'denied', 'denied']);
    expect([true, 'granted', 1].map(consentState)).toEqual(['granted', 'granted', 'granted']);
    expect(consentState(undefined)).toBeNull();
  });
  it('strips, drops or dead-letters on denial', async () => {
    const mk = () => event({ consent_analytics: false, email: 'x', ip: 'y', status: 'ok' });
    const strip = mk(); const drop = mk(); const dl = mk(); const ok = event({ consent_analytics: true, email: 'x' });
    await createConsentStep({ kind: 'consent', field: 'consent_analytics', whenDenied: 'strip' }, ['email', 'ip']).process([strip, ok], ctx);
    await createConsentStep({ kind: 'consent', field: 'consent_analytics', whenDenied: 'drop' }, ['email']).process([drop], ctx);
    await createConsentStep({ kind: 'consent', field: 'consent_analytics', whenDenied: 'deadletter' }, ['email']).process([dl], ctx);
    expect(strip.record).toEqual({ consent_analytics: false, email: null, ip: null, status: 'ok' });
    expect(ok.record!.email).toBe('x');
    expect(drop.dropped).toBe('consent');
    expect(dl.failure?.reason).toBe('CONSENT_DENIED');
  });
});

describe('derived enriched schema', () => {
  it('makes personal fields nullable, adds tracklane, and reads back', () => {
    const schema = deriveEnrichedSchema(ORDER_V2, ['email', 'ip'], ['email', 'ip', 'region']);
    const type = avro.Type.forSchema(schema as avro.Schema);
    const region = schema.fields.find((f) => f.name === 'region')!;
    expect(region.type).toEqual(['null', 'string']);
    expect(schema.name).toBe('OrderEventEnriched');
    expect(schema.fields[schema.fields.length - 1].name).toBe('tracklane');
    // an enriched schema can read events of the source schema's shape plus tracklane: round trip
    expect(type.isValid({ ...{ event_id: 'e', ts: 1, type: 't', status: 's', region: null, duration_ms: 1, email: 'k:ab', ip: null, anonymous_id: null, user_id: null, correlation_id: null, note: null, consent_analytics: true },
      tracklane: { correlation_id: 'c', correlation_generated: true, user_id: null, anonymous_id: null, session_id: null, event_time: 1, ingested_at: 2, processed_at: 3, clock_skew_ms: 1,
        source: { topic: 't', partition: 0, offset: 1, schema_id: 1, subject: 's', schema_version: 1 }, pipeline: { name: 'p', version: 1, instance: 'i' }, steps: [], pseudonymized: [], pseudonym_key_id: null, consent: null } })).toBe(true);
  });
});

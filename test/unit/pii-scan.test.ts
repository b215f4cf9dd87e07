import { createPiiScanStep, MAX_FIELD_LABELS } from '../../src/enrich/pii-scan';
import { parsePseudonymKeys, pseudonym } from '../../src/enrich/pseudonym-keys';
import { luhnValid } from '../../src/enrich/pii/luhn';
import { shannonEntropy } from '../../src/enrich/pii/entropy';
import { highEntropyToken } from '../../src/enrich/pii/detectors';
import { findPii } from '../../src/enrich/pii/scan';
import { UserError } from '../../src/errors';
import { createMetrics } from '../../src/observability/metrics';
import type { PipelineEvent, StageContext } from '../../src/pipeline/event';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTopology, loadTopologyText } from '../../src/topology/load';
import { PII_KINDS } from '../../src/topology/steps';
import type { PiiKind, PiiScanStep } from '../../src/topology/types';

const ctx = {} as StageContext;
const KEYS = { TRACKLANE_PSEUDONYM_KEYS: 'k1:pii-secret-0123456789abcdef' };
const key = parsePseudonymKeys(KEYS.TRACKLANE_PSEUDONYM_KEYS)[0];
const CARD = '4111 1111 1111 1111';

function event(record: Record<string, unknown>): PipelineEvent {
  return {
    source: {} as PipelineEvent['source'], topic: 'raw.t', partition: 0, offset: '1', timestamp: 1, key: null, value: null,
    headers: {}, record, meta: { steps: [], pseudonymized: [] },
  };
}

function step(options: Partial<PiiScanStep>): PiiScanStep {
  return { kind: 'pii-scan', except: [], kinds: [...PII_KINDS], action: 'count', ...options };
}

function sample(): Record<string, unknown> {
  return {
    event_id: 'e-1',
    email: 'declared@example.org', // declared personal: never scanned
    url: 'https://shop.example/?mail=ada@example.org',
    note: `paid with ${CARD}, call +44 20 7946 0958`,
    items: [{ text: 'fine' }, { text: 'from 203.0.113.7' }],
    tags: { 'ada@example.org': 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8' },
    amount: 1299,
    raw: Buffer.from('bob@example.org'),
  };
}

async function scan(options: Partial<PiiScanStep>, record = sample()) {
  const detected: Array<[string, PiiKind]> = [];
  const stage = createPiiScanStep(step(options), ['email'], { onDetected: (f, k) => detected.push([f, k]) }, KEYS);
  const ev = event(record);
  await stage.process([ev], ctx);
  return { ev, detected };
}

describe('pii-scan detectors', () => {
  it('checks Luhn, entropy and the secret rule', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
    expect(highEntropyToken('Zm9vYmFyX2s3R2hQcTlMbU4wVnc4')).toBe(true);
    expect(highEntropyToken('checkoutPaymentConfirmedV2Event')).toBe(false);
    expect(highEntropyToken('9b74c9897bac770ffc029102a200c5de')).toBe(false); // a hex digest
  });

  it('finds each kind and leaves look-alikes alone', () => {
    const kinds = new Set(PII_KINDS);
    const kindsIn = (t: string) => findPii(t, kinds).map((f) => [f.kind, t.slice(f.start, f.end)]);
    expect(kindsIn('mail ada@example.org now')).toEqual([['email', 'ada@example.org']]);
    expect(kindsIn('ip 10.1.2.3:8080 and [2001:db8::7]:443')).toEqual([['ip', '10.1.2.3'], ['ip', '2001:db8::7']]);
    expect(kindsIn(`card ${CARD} / 4111-1111-1111-1111`)).toEqual([['card', CARD], ['card', '4111-1111-1111-1111']]);
    expect(kindsIn('call (415) 555-2671')).toEqual([['phone', '(415) 555-2671']]);
    const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';
    expect(kindsIn(`Bearer ${jwt}`)).toEqual([['secret', jwt]]);
    expect(kindsIn('key AKIAIOSFODNN7EXAMPLE')).toEqual([['secret', 'AKIAIOSFODNN7EXAMPLE']]);
    for (const lookAlike of ['1.2.3.4-beta', '10.0.0.1.2', 'v1.2.3.4', 'order 4111111111111112', '123e4567-e89b-12d3-a456-426614174000', '2026-01-05T10:00:00.123Z', 'sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709', '$1,299.99', '94105-1234', '/var/log/tracklane/2026-01-05.log', 'std::vector', '10:30:00']) {
      expect({ lookAlike, found: kindsIn(lookAlike) }).toEqual({ lookAlike, found: [] });
    }
  });
});

describe('pii-scan step', () => {
  it('count: counts each value by bounded field label and kind, skips personal fields and map keys, changes nothing', async () => {
    const { ev, detected } = await scan({ action: 'count' });
    expect(detected.sort()).toEqual([
      ['/items/*/text', 'ip'],
      ['/note', 'card'],
      ['/note', 'phone'],
      ['/tags/*', 'secret'], // a map key is not name-like: it is collapsed, never a label
      ['/url', 'email'],
    ]);
    expect(ev.record).toEqual(sample());
    expect(ev.failure).toBeUndefined();
    expect(ev.meta.steps).toEqual(['pii-scan']);
    expect(ev.meta.pseudonymized).toEqual([]);
  });

  it('fields, except and kinds aim the scan', async () => {
    expect((await scan({ fields: ['note', 'url'], except: ['url'] })).detected.sort()).toEqual([['/note', 'card'], ['/note', 'phone']]);
    expect((await scan({ kinds: ['ip', 'email'] })).detected.sort()).toEqual([['/items/*/text', 'ip'], ['/url', 'email']]);
  });

  it('pseudonymize: replaces each value inside its string with the pseudonymize step\'s kid:hex and records the field', async () => {
    const { ev } = await scan({ action: 'pseudonymize' });
    const r = ev.record!;
    expect(r.note).toBe(`paid with ${pseudonym(key, CARD)}, call ${pseudonym(key, '+44 20 7946 0958')}`);
    expect(r.url).toBe(`https://shop.example/?mail=${pseudonym(key, 'ada@example.org')}`);
    expect((r.items as Array<{ text: string }>)[1].text).toBe(`from ${pseudonym(key, '203.0.113.7')}`);
    expect(r.email).toBe('declared@example.org');
    expect(r.raw).toEqual(Buffer.from('bob@example.org'));
    expect(ev.meta.pseudonymized.sort()).toEqual(['items', 'note', 'tags', 'url']);
    expect(ev.meta.pseudonym_key_id).toBe('k1');
    // scanning the result again finds nothing: the pseudonyms are hex, never flagged
    expect((await scan({ action: 'count' }, r)).detected).toEqual([]);
  });

  it('pseudonymize needs TRACKLANE_PSEUDONYM_KEYS; count and deadletter do not', () => {
    expect(() => createPiiScanStep(step({ action: 'pseudonymize' }), [], {}, {})).toThrow(UserError);
    expect(() => createPiiScanStep(step({ action: 'deadletter' }), [], {}, {})).not.toThrow();
  });

  it('deadletter: fails the event as PII_DETECTED at the JSON pointer, without quoting the value', async () => {
    const { ev } = await scan({ action: 'deadletter', fields: ['items', 'url'] });
    expect(ev.failure).toEqual({ reason: 'PII_DETECTED', message: 'pii-scan found an IP address in /items/1/text', path: '/items/1/text', stage: 'pii-scan' });
    const clean = await scan({ action: 'deadletter' }, { event_id: 'e-2', note: 'all fine', 'a/b': 'x' });
    expect(clean.ev.failure).toBeUndefined();
    const escaped = await scan({ action: 'deadletter' }, { m: { 'a/b~c': 'ip 192.0.2.1' } });
    expect(escaped.ev.failure?.path).toBe('/m/a~1b~0c');
  });

  it(`bounds the field label at ${MAX_FIELD_LABELS} values, then __other__`, async () => {
    const record: Record<string, unknown> = {};
    for (let i = 0; i < MAX_FIELD_LABELS + 5; i++) record[`f${i}`] = 'ip 192.0.2.1';
    const { detected } = await scan({}, record);
    expect(new Set(detected.map(([f]) => f)).size).toBe(MAX_FIELD_LABELS + 1);
    expect(detected.filter(([f]) => f === '__other__')).toHaveLength(5);
  });

  it('tracklane_pii_detected_total carries field and kind, never the value', async () => {
    const metrics = createMetrics('t');
    const stage = createPiiScanStep(step({}), [], { onDetected: (field, kind) => metrics.piiDetected.inc({ field, kind }) }, KEYS);
    await stage.process([event({ note: 'ada@example.org, bob@example.org' })], ctx);
    const text = await metrics.registry.metrics();
    expect(text).toContain('tracklane_pii_detected_total{field="/note",kind="email",topology="t"} 2');
    expect(text).not.toContain('example.org');
  });
});

describe('pii-scan options', () => {
  const topology = (options: string) => `apiVersion: tracklane/v1
kind: Topology
metadata: { name: inline, version: 1 }
spec:
  sources:
    - { name: web, topic: raw.inline, eventTime: { field: ts }, idempotencyKey: event_id }
  enrich:
    - pii-scan: ${options}
  outputs:
    enriched: { topic: enriched.inline }
    deadLetter: { topic: dlq.inline }
`;
  it('defaults to every kind, no exceptions and count', () => {
    expect(loadTopologyText(topology('{}'), 'inline.yaml').enrich[0]).toEqual({ kind: 'pii-scan', except: [], kinds: ['email', 'ip', 'phone', 'card', 'secret'], action: 'count' });
    expect(loadTopologyText(topology('{ fields: [note], except: [url], kinds: [card], action: deadletter }'), 'inline.yaml').enrich[0]).toEqual({ kind: 'pii-scan', fields: ['note'], except: ['url'], kinds: ['card'], action: 'deadletter' });
  });

  it('refuses an unknown kind or action with its position', () => {
    let details: string[] = [];
    try {
      loadTopologyText(topology('{ kinds: [ssn], action: mask }'), 'inline.yaml');
    } catch (err) {
      details = (err as UserError).details;
    }
    expect(details).toHaveLength(2);
    expect(details[0]).toMatch(/^inline\.yaml:8:\d+ spec\.enrich\[0\]\.pii-scan\.kinds\[0\]: .*email/);
    expect(details[1]).toMatch(/^inline\.yaml:8:\d+ spec\.enrich\[0\]\.pii-scan\.action: .*pseudonymize/);
  });

  it('checks fields and except against the source schema file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pii-scan-'));
    const schema = path.resolve(__dirname, '../topologies/pii-scan/pii-event.avsc');
    const file = path.join(dir, 'topology.yaml');
    fs.writeFileSync(file, topology('{ fields: [note, notes], except: [uri] }').replace('idempotencyKey: event_id }', `idempotencyKey: event_id, schema: ${JSON.stringify(schema)} }`));
    try {
      let details: string[] = [];
      try {
        loadTopology(file);
      } catch (err) {
        details = (err as UserError).details;
      }
      expect(details.map((d) => d.replace(/^.*?:\d+:\d+ /, ''))).toEqual([
        expect.stringMatching(/^spec\.enrich\[0\]\.pii-scan\.fields\[1\]: field "notes" is not in the schema/),
        expect.stringMatching(/^spec\.enrich\[0\]\.pii-scan\.except\[0\]: field "uri" is not in the schema/),
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

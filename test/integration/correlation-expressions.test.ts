import fs from 'node:fs';
import { Engine } from '../../src/engine';
import { initTopology } from '../../src/cli/init';
import { UserError } from '../../src/errors';
import { loadTopology } from '../../src/topology/load';
import { deleteTopics, kafka } from '../helpers/stack-env';
import { encodeV2, registerVersions, rewriteFixture, writeFixture, type Fixture, type Order } from '../helpers/engine-fixture';
import { readDecoded, type Enriched } from '../helpers/outputs';

// Issue 11, item 4 and item 3 through the real engine, Kafka and Apicurio: a pure enrichment
// topology (no metrics/alerts outputs) whose correlation step reads only the W3C header and
// generates nothing; and the start-up type check of SLI expressions against the registry's
// reader schema when the topology names no schema file.

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const VALID = `00-${TRACE}-00f067aa0ba902b7-01`;

function order(i: number, ts: number): Order {
  return { event_id: `ev-${i}`, ts, type: 'checkout', status: 'ok', region: 'eu', duration_ms: 5, correlation_id: null };
}

/** The fixture's metrics/alerts lines: a pure enrichment topology has neither. */
function withoutSloOutputs(f: Fixture): void {
  rewriteFixture(f, `    metrics: { topic: ${f.metrics} }\n    alerts: { topic: ${f.alerts} }\n`, '');
}

describe('correlation through the engine, without metrics/alerts outputs', () => {
  let f: Fixture;
  let engine: Engine | undefined;

  beforeAll(async () => {
    f = writeFixture({ enrich: ['- correlation: { header: traceparent, generate: false }'], partitions: 1 });
    withoutSloOutputs(f);
    const { v2 } = await registerVersions(f.subject);
    const created = await initTopology(loadTopology(f.file));
    expect(created.created).not.toContain(f.metrics);
    expect(created.created).not.toContain(f.alerts);
    const now = Date.now();
    const headers: Array<Record<string, string>> = [
      { traceparent: VALID },
      { traceparent: `ff-${TRACE}-00f067aa0ba902b7-01` },
      { traceparent: VALID.toUpperCase() },
      { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' },
      {},
    ];
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic: f.raw, messages: headers.map((h, i) => ({ key: `ev-${i}`, value: encodeV2(v2, order(i, now - 1000 + i)), headers: h })) });
    await producer.disconnect();
    engine = new Engine({ topology: loadTopology(f.file), metricsPort: 0, instanceId: 'correlation-test' });
    await engine.start();
  });

  afterAll(async () => {
    await engine?.stop();
    await deleteTopics(f.topics);
  });

  it('takes the trace id of a valid header only; otherwise correlation_id is null and not marked generated', async () => {
    const enriched = await readDecoded<Enriched>(f.enriched, { expected: 5 });
    const byId = Object.fromEntries(enriched.map((e) => [e.value.event_id, [e.value.tracklane.correlation_id, e.value.tracklane.correlation_generated]]));
    expect(byId).toEqual({
      'ev-0': [TRACE, false],
      'ev-1': [null, false],
      'ev-2': [null, false],
      'ev-3': [null, false],
      'ev-4': [null, false],
    });
  });

  it('counts the invalid headers by reason', async () => {
    await readDecoded<Enriched>(f.enriched, { expected: 5 });
    const text = await engine!.metrics.registry.metrics();
    const count = (reason: string) => Number(new RegExp(`tracklane_correlation_invalid_total\\{reason="${reason}",topology="${f.name}"\\} (\\d+)`).exec(text)?.[1]);
    expect([count('unsupported_version'), count('malformed'), count('zero_trace_id'), count('zero_parent_id')]).toEqual([1, 1, 1, 0]);
  });
});

describe('CEL type check at engine start', () => {
  let f: Fixture;

  beforeAll(async () => {
    f = writeFixture({
      enrich: [],
      extra: `  slis:\n    - name: checkout-success\n      ratio: { good: "stauts == 'ok'", total: "type == 'checkout'" }\n`,
    });
    // No schema file: `check` cannot know the fields, so the engine checks against the registry.
    rewriteFixture(f, '      schema: order.avsc\n', '');
    rewriteFixture(f, '  enrich:\n\n', '');
    await registerVersions(f.subject);
  });

  afterAll(async () => {
    await deleteTopics(f.topics);
  });

  it('refuses to start with the typo at file:line:col', async () => {
    const engine = new Engine({ topology: loadTopology(f.file), metricsPort: 0, instanceId: 'cel-test' });
    const err = await engine.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    await engine.stop();
    expect(err).toBeInstanceOf(UserError);
    const lines = fs.readFileSync(f.file, 'utf8').split('\n');
    const line = lines.findIndex((l) => l.includes('stauts'));
    const at = `${line + 1}:${lines[line].indexOf('stauts') + 1}`;
    expect((err as UserError).details).toEqual([
      `${f.file}:${at} spec.slis[0].ratio.good: CEL: field "stauts" is not in the schema of source "web" (${f.subject} v2)`,
    ]);
  });
});

import type { Producer } from 'kafkajs';
import { Registry, registryOptionsFromEnv } from '../../src/decode/registry';
import { writeAvroFrame } from '../../src/decode/wire';
import { initTopology } from '../../src/cli/init';
import { dedupKey } from '../../src/slo/alert-state';
import { registerSloSchemas } from '../../src/slo/observer';
import { alertType, type Alert, type AlertStatus } from '../../src/slo/records';
import { loadTopology } from '../../src/topology/load';
import type { Topology } from '../../src/topology/types';
import { Alertmanager, ChildForwarder, RecordingReceiver, ensureAlertmanager, eventually, type ReceivedPost } from '../helpers/alert-receivers';
import { checkoutSlisYaml, rewriteFixture, writeFixture, type Fixture } from '../helpers/engine-fixture';
import { freePort } from '../helpers/child-engine';
import { deleteTopics, kafka } from '../helpers/stack-env';

// `tracklane alerts forward` (the built CLI, as a child process) against a real Alertmanager,
// a local receiver that counts what it accepted, and a local PagerDuty Events v2 receiver.
// Alert records are produced straight onto the topology's alerts topic, encoded as the
// engine encodes them (tracklane.Alert under the topology's registered subject, or JSON).

const SLOS = `  slos:
    - name: checkout-availability
      sli: checkout-success
      objective: 0.999
      alerting: { runbook: https://runbooks.example/checkout }
`;

interface Setup { f: Fixture; topology: Topology; producer: Producer; encode(a: Alert): Buffer }

async function setup(format: 'avro' | 'json'): Promise<Setup> {
  const f = writeFixture({ extra: checkoutSlisYaml({ allowedLateness: '0s', idleTimeout: '5s' }) + SLOS });
  if (format === 'json') rewriteFixture(f, `alerts: { topic: ${f.alerts} }`, `alerts: { topic: ${f.alerts}, format: json }`);
  const topology = loadTopology(f.file);
  await initTopology(topology);
  const ids = await registerSloSchemas(new Registry(registryOptionsFromEnv()), topology);
  const producer = kafka('alerts-forward-test').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const encode = (a: Alert) => (format === 'json' ? Buffer.from(JSON.stringify(a)) : writeAvroFrame(ids.alert!, alertType, a));
  return { f, topology, producer, encode };
}

const MIN = 60_000;

function alert(topology: string, region: string, status: AlertStatus, startsAt: number, o: Partial<Alert> = {}): Alert {
  const labels = { region };
  return {
    dedup_key: dedupKey(topology, 'checkout-availability', '1h/5m', `region=${region}`),
    status, severity: 'page', tier: '1h/5m', topology, slo: 'checkout-availability', sli: 'checkout-success', labels,
    objective: 0.999, period: 30 * 24 * 60 * MIN,
    burn_rate_long: 20.5, burn_rate_short: 31, threshold: 14.4, error_budget_remaining: 0.42,
    starts_at: startsAt, ends_at: status === 'resolved' ? Date.now() - MIN : null,
    summary: `checkout-availability burns its budget 20.5x (1h/5m) for region=${region}`,
    runbook_url: 'https://runbooks.example/checkout', emitted_at: Date.now(),
    ...o,
  };
}

async function produce(s: Setup, alerts: Alert[]): Promise<void> {
  await s.producer.send({ topic: s.f.alerts, messages: alerts.map((a) => ({ key: a.dedup_key, value: s.encode(a) })) });
}

let amBinary: string;
beforeAll(async () => {
  amBinary = await ensureAlertmanager();
}, 16 * 60_000);

describe('alerts forward to a real Alertmanager', () => {
  let s: Setup;
  let am: Alertmanager;
  let fwd: ChildForwarder;
  afterAll(async () => {
    await fwd?.stop();
    await am?.stop();
    await s?.producer.disconnect();
    if (s) await deleteTopics(s.f.topics);
  });

  it('shows a firing record in GET /api/v2/alerts with the mapped labels, keeps it alive, and the resolved record ends it', async () => {
    s = await setup('avro');
    am = new Alertmanager(amBinary);
    await am.start();
    fwd = new ChildForwarder(['-t', s.f.file, '--to', `alertmanager=${am.url}`, '--resend-interval', '2s']);
    fwd.start();
    const startsAt = Date.now() - 10 * MIN;
    await produce(s, [alert(s.topology.name, 'eu', 'firing', startsAt)]);

    const ours = async () => (await am.alerts()).find((a) => a.labels.topology === s.topology.name);
    const firing = await eventually('the firing alert in Alertmanager', ours, 60_000, () => fwd.output + am.output);
    expect(firing.labels).toEqual({
      alertname: 'TracklaneSloBurnRate', topology: s.topology.name, slo: 'checkout-availability',
      sli: 'checkout-success', severity: 'page', tier: '1h/5m', region: 'eu',
    });
    expect(firing.annotations.summary).toMatch(/region=eu/);
    expect(firing.annotations.runbook_url).toBe('https://runbooks.example/checkout');
    expect(firing.status.state).toBe('active');
    expect(Date.parse(firing.startsAt)).toBe(startsAt);

    // Alertmanager ends an alert at its endsAt: the forwarder keeps pushing it out while it fires.
    const firstEnd = Date.parse(firing.endsAt);
    await eventually('a keep-alive that moves endsAt', async () => {
      const now = await ours();
      return now && Date.parse(now.endsAt) > firstEnd ? now : undefined;
    }, 60_000, () => fwd.output);

    await produce(s, [alert(s.topology.name, 'eu', 'resolved', startsAt)]);
    // A resolved alert (endsAt in the past) is no longer reported by GET /api/v2/alerts.
    await eventually('the alert ended in Alertmanager', async () => ((await ours()) === undefined ? true : undefined), 60_000, () => fwd.output);
    // The forwarder logs the delivery after Alertmanager's answer and the offset commit, so the
    // line may trail the alert's end by a moment.
    const delivered = /"status":"resolved".*transition delivered|transition delivered.*"status":"resolved"/;
    await eventually('the resolved transition logged as delivered', () => (delivered.test(fwd.output) ? true : undefined), 30_000, () => fwd.output);
    expect(await fwd.stop()).toBe(0);
  });
});

describe('alerts forward killed mid-stream', () => {
  let s: Setup;
  let receiver: RecordingReceiver;
  let fwd: ChildForwarder;
  afterAll(async () => {
    await fwd?.kill9();
    await receiver?.stop();
    await s?.producer.disconnect();
    if (s) await deleteTopics(s.f.topics);
  });

  /** dedup_key|status of an Alertmanager body element; resolved = endsAt in the past. */
  const transitionOf = (p: ReceivedPost) => {
    const [a] = p.body as Array<{ annotations: Record<string, string>; endsAt: string }>;
    return `${a.annotations.dedup_key}|${Date.parse(a.endsAt) < Date.now() ? 'resolved' : 'firing'}`;
  };

  it('neither loses nor repeats a transition across a SIGKILL and a restart, and rebuilds the firing set', async () => {
    s = await setup('avro');
    receiver = new RecordingReceiver();
    await receiver.start();
    const t = s.topology.name;
    const start = Date.now() - 30 * MIN;
    // 6 alerts, 12 transitions, interleaved as an incident would produce them.
    const order: Array<[string, AlertStatus]> = [
      ['r1', 'firing'], ['r2', 'firing'], ['r3', 'firing'], ['r1', 'resolved'], ['r4', 'firing'], ['r2', 'resolved'],
      ['r5', 'firing'], ['r3', 'resolved'], ['r6', 'firing'], ['r4', 'resolved'], ['r5', 'resolved'], ['r6', 'resolved'],
    ];
    await produce(s, order.map(([region, status]) => alert(t, region, status, start)));
    const expected = order.map(([region, status]) => `${dedupKey(t, 'checkout-availability', '1h/5m', `region=${region}`)}|${status}`);

    // First run: two 503s (retried), five transitions accepted, the sixth never answered.
    let transitions = 0;
    let held = false;
    receiver.answer = (post) => {
      if (post.delivery !== 'transition') return 200;
      transitions++;
      if (transitions <= 2) return 503;
      if (transitions <= 7) return 200;
      held = true;
      return 'hold';
    };
    fwd = new ChildForwarder(['-t', s.f.file, '--to', `alertmanager=${receiver.url}`, '--resend-interval', '1h']);
    fwd.start();
    await eventually('the sixth transition to be in flight', () => (held ? true : undefined), 90_000, () => fwd.output);
    await fwd.kill9();
    const accepted = () => receiver.posts.filter((p) => p.delivery === 'transition' && p.accepted).map(transitionOf);
    expect(accepted()).toEqual(expected.slice(0, 5));
    const heldOne = transitionOf(receiver.posts[receiver.posts.length - 1]);
    expect(heldOne).toBe(expected[5]);

    // Second run: everything is accepted.
    const before = receiver.posts.length;
    receiver.answer = () => 200;
    fwd.start();
    await eventually('all 12 transitions accepted', () => (accepted().length >= 12 ? true : undefined), 90_000, () => fwd.output);
    expect(accepted()).toEqual(expected);
    // The restarted forwarder rebuilt what fires after the five accepted transitions (r2, r3, r4)
    // and refreshed them before delivering anything new.
    const afterRestart = receiver.posts.slice(before);
    expect(afterRestart[0].delivery).toBe('keepalive');
    const refreshed = (afterRestart[0].body as Array<{ labels: Record<string, string> }>).map((a) => a.labels.region).sort();
    expect(refreshed).toEqual(['r2', 'r3', 'r4']);
    expect(afterRestart[1].delivery).toBe('transition');
    expect(transitionOf(afterRestart[1])).toBe(expected[5]);
    expect(await fwd.stop()).toBe(0);
  });
});

describe('alerts forward to PagerDuty Events v2', () => {
  let s: Setup;
  let receiver: RecordingReceiver;
  let fwd: ChildForwarder;
  const routingKey = 'R0UT1NGKEY0123456789abcdef012345';
  afterAll(async () => {
    await fwd?.stop();
    await receiver?.stop();
    await s?.producer.disconnect();
    if (s) await deleteTopics(s.f.topics);
  });

  it('waits out a receiver that is down, stops with exit 1 on a rejection, and then sends the Events v2 body, from a JSON alerts topic', async () => {
    s = await setup('json');
    receiver = new RecordingReceiver();
    const port = await freePort();
    const t = s.topology.name;
    const startsAt = Date.now() - 5 * MIN;
    await produce(s, [
      alert(t, 'eu', 'firing', startsAt),
      alert(t, 'us', 'firing', startsAt, { severity: 'ticket', tier: '1d/2h', dedup_key: dedupKey(t, 'checkout-availability', '1d/2h', 'region=us'), runbook_url: null }),
      alert(t, 'eu', 'resolved', startsAt),
    ]);
    fwd = new ChildForwarder(['-t', s.f.file, '--to', `pagerduty=http://127.0.0.1:${port}`], { TRACKLANE_PAGERDUTY_ROUTING_KEY: routingKey });
    fwd.start();
    // Nothing listens yet: the forwarder backs off and keeps the record.
    await eventually('retries while the receiver is down', () => ((fwd.output.match(/retriable failure, backing off/g) ?? []).length >= 2 ? true : undefined), 60_000, () => fwd.output);
    // The receiver comes up and rejects the first event (a 400 is not worth retrying): exit 1.
    receiver.answer = (_post, i) => (i === 0 ? 400 : 200);
    await receiver.start(port);
    expect(await fwd.waitForExit()).toBe(1);
    expect(fwd.output).toMatch(/pagerduty at http:\/\/127\.0\.0\.1:\d+\/v2\/enqueue answered 400/);
    expect(receiver.posts).toHaveLength(1);
    // Its offset was not committed: the next run starts with that event again.
    fwd.start();
    await eventually('three accepted events', () => (receiver.posts.filter((p) => p.accepted).length >= 3 ? true : undefined), 60_000, () => fwd.output);
    expect(receiver.posts).toHaveLength(4);
    expect(receiver.posts[1].body).toEqual(receiver.posts[0].body);
    const events = receiver.posts.slice(1).map((p) => { expect(p.path).toBe('/v2/enqueue'); return p.body as Record<string, any>; });
    expect(events.map((e) => [e.event_action, e.dedup_key])).toEqual([
      ['trigger', `${t}/checkout-availability/1h/5m/region=eu`],
      ['trigger', `${t}/checkout-availability/1d/2h/region=us`],
      ['resolve', `${t}/checkout-availability/1h/5m/region=eu`],
    ]);
    for (const e of events) {
      expect(e.routing_key).toBe(routingKey);
      expect(Object.keys(e.payload).sort()).toEqual(['class', 'component', 'custom_details', 'group', 'severity', 'source', 'summary', 'timestamp']);
      expect(e.payload.source).toBe(t);
      expect(e.payload.timestamp).toBe(new Date(startsAt).toISOString());
      expect(e.payload.summary).toMatch(/burns its budget/);
      expect(e.payload.custom_details).toMatchObject({ objective: 0.999, threshold: 14.4, burn_rate_long: 20.5, error_budget_remaining: 0.42 });
    }
    expect(events[0].payload.severity).toBe('critical');
    expect(events[1].payload.severity).toBe('warning');
    expect(events[0].links).toEqual([{ href: 'https://runbooks.example/checkout', text: 'Runbook' }]);
    expect(events[1].links).toBeUndefined();
    expect(await fwd.stop()).toBe(0);
    expect(fwd.output).toContain('transition delivered');
    expect(fwd.output).not.toContain(routingKey);
  });
});

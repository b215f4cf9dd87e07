import { idleGroupId, TransactionalIdleDelivery } from '../../src/sink/idle-delivery';
import { consumeAll, createTopics, deleteTopics, kafka, uniqueName } from '../helpers/stack-env';

// The idle close's exactly-once delivery: records and the close's sequence number in one
// transaction; a new holder's resume() fences the old one and says exactly what was committed.

const name = uniqueName('idle-eos').toLowerCase();
const anchor = `raw.${name}`;
const out = `metrics.${name}`;

beforeAll(() => createTopics([anchor, out]));

afterAll(async () => {
  await deleteTopics([anchor, out]).catch(() => undefined);
  const admin = kafka('tracklane-test-idle-admin').admin();
  await admin.connect();
  await admin.deleteGroups([idleGroupId(name)]).catch(() => undefined);
  await admin.disconnect();
});

const record = (k: string) => ({ topic: out, key: k, value: Buffer.from(k) });

test('a new holder resumes after the last committed close and fences the previous holder', async () => {
  const a = new TransactionalIdleDelivery(kafka('idle-a'), name, anchor);
  expect(await a.resume()).toBe(0); // nothing committed yet
  await a.deliver([record('a0')], 0);
  await a.deliver([record('a1')], 1);

  const b = new TransactionalIdleDelivery(kafka('idle-b'), name, anchor);
  expect(await b.resume()).toBe(2);
  // the previous holder, still running, can no longer publish
  await expect(a.deliver([record('zombie')], 2)).rejects.toThrow();
  await b.deliver([record('b2')], 2);
  expect(await b.resume()).toBe(3);
  await Promise.all([a.close(), b.close()]);

  const seen = await consumeAll(out, { readCommitted: true, expected: 3, timeoutMs: 60_000 });
  expect(seen.map((m) => m.key!.toString())).toEqual(['a0', 'a1', 'b2']);
}, 120_000);

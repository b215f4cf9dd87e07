import path from 'node:path';
import { keys } from '../../src/state/keys';
import { createRedis, waitUntilReady } from '../../src/state/redis';
import { loadTopology } from '../../src/topology/load';
import { deleteKeys } from '../helpers/events';
import { deleteTopics, kafka } from '../helpers/stack-env';
import { discoverCases } from '../helpers/golden/case';
import { readExpected, writeExpected } from '../helpers/golden/expected';
import { presentOutputs, runCase, type Leftovers } from '../helpers/golden/run';

// Golden pipeline cases (test/topologies/README.md): every folder of test/topologies with a
// topology.yaml runs through the real engine, Kafka, the registry and Redis, and each of its
// outputs must equal expected/<output>.jsonl record for record. GOLDEN_UPDATE=1 writes the
// expected files from the run instead; review every line against docs/topology.md before
// committing them.

const UPDATE = process.env.GOLDEN_UPDATE === '1';
const ONLY = process.env.GOLDEN_CASE; // run one case while writing it
const cases = discoverCases(path.resolve(__dirname, '../topologies')).filter((c) => !ONLY || c.name === ONLY);
const leftovers: Leftovers = { topics: [], groups: [], topologies: [] };

afterAll(async () => {
  const redis = createRedis();
  await waitUntilReady(redis);
  for (const t of leftovers.topologies) await deleteKeys(redis, keys(t).prefix).catch(() => undefined);
  redis.disconnect();
  await deleteTopics(leftovers.topics).catch(() => undefined);
  const admin = kafka('tracklane-golden-admin').admin();
  await admin.connect();
  await admin.deleteGroups(leftovers.groups).catch(() => undefined);
  await admin.disconnect();
}, 5 * 60_000);

describe('golden pipeline cases', () => {
  it('finds the cases', () => {
    expect(cases.map((c) => c.name).length).toBeGreaterThanOrEqual(ONLY ? 1 : 10);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const outputs = presentOutputs(loadTopology(c.topologyFile).outputs).map(([name]) => name);
      const expected = UPDATE ? undefined : readExpected(c, outputs);
      const counts = expected && new Map([...expected].map(([name, records]) => [name, records.length]));
      const actual = await runCase(c, counts, leftovers);
      if (UPDATE) {
        writeExpected(c, actual);
        return;
      }
      for (const output of outputs) {
        expect({ output, records: actual.get(output) }).toEqual({ output, records: expected!.get(output) });
      }
    }, 120_000);
  }
});

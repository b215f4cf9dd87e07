import http from 'node:http';
import { initTopology } from '../../src/engine/provision';
import { loadTopology } from '../../src/topology/load';
import { ChildEngine, freePort } from '../helpers/child-engine';
import { registerVersions, writeFixture, type Fixture } from '../helpers/engine-fixture';
import { deleteTopics } from '../helpers/stack-env';

// DESIGN.md section 8: a consumer that crashed makes /readyz 503 at once and, if it is not
// back within the bound (TRACKLANE_CONSUMER_RESTART_TIMEOUT), the process exits non-zero
// so that an orchestrator restarts it, instead of a live process that consumes nothing.

function readyz(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/readyz', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a crashed consumer', () => {
  let f: Fixture;
  let child: ChildEngine | undefined;

  afterAll(async () => {
    await child?.stop();
    await deleteTopics(f.topics);
  });

  it('makes /readyz answer 503 and the process exit non-zero when it does not come back in time', async () => {
    f = writeFixture({ partitions: 1 });
    await registerVersions(f.subject);
    await initTopology(loadTopology(f.file));
    const port = await freePort();
    child = new ChildEngine(f.file, { TRACKLANE_PSEUDONYM_KEYS: 'k1:test-secret-0123456789abcdef', TRACKLANE_CONSUMER_RESTART_TIMEOUT: '5s' }, 'crash', port);
    child.start();
    await child.waitForOutput(/engine running/);
    await until('/readyz 200', 30_000, async () => ((await readyz(port)) === 200 ? true : undefined));

    // The source topic goes away under the running engine (an operator's mistake, a
    // topic recreated by a tool): the consumer's group cannot fetch or rejoin.
    await deleteTopics([f.raw]);
    const sawNotReady = await until('/readyz 503 or exit', 90_000, async () => {
      if (child!.exited) return false;
      return (await readyz(port)) === 503 ? true : undefined;
    });
    await until('the process to exit', 60_000, async () => (child!.exited ? true : undefined));
    expect(sawNotReady).toBe(true);
    expect(child.exits[0].code).not.toBe(0);
    expect(child.exits[0].code).not.toBeNull();
    expect(child.output).toMatch(/fatal: consumer did not recover within the bound|fatal: the consumer crashed/);
  });
});

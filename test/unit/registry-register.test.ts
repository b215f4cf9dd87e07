import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from '../../src/decode/registry';
import { InfrastructureError } from '../../src/errors';

// A stand-in for the registry's HTTP API (pure client logic, no real registry): it answers the
// subject-config lookup with 404 as Apicurio does, accepts the compatibility update, and lets
// the test decide what happens to each registration POST.
function fakeRegistry(onRegister: (n: number, res: http.ServerResponse) => void) {
  let posts = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      req.resume();
      onRegister(++posts, res);
      return;
    }
    req.resume();
    // The client then sets the subject's compatibility (PUT): accept it.
    if (req.method === 'PUT') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ compatibility: 'BACKWARD' }));
    else res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 40401, message: 'not found' }));
  });
  return {
    posts: () => posts,
    async start() {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const answer = (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 42 }));

test('a registration the registry never answers is sent again, and the second answer counts', async () => {
  const fake = fakeRegistry((n, res) => (n === 1 ? undefined : answer(res))); // the first POST hangs
  const url = await fake.start();
  try {
    const registry = new Registry({ url, registerAttemptMs: 300 });
    await expect(registry.register('s-value', JSON.stringify({ type: 'record', name: 'R', fields: [] }))).resolves.toBe(42);
    expect(fake.posts()).toBe(2);
  } finally {
    await fake.stop();
  }
});

test('a registry that never answers gives an InfrastructureError after a bounded number of attempts', async () => {
  const fake = fakeRegistry(() => undefined);
  const url = await fake.start();
  try {
    const registry = new Registry({ url, registerAttemptMs: 200 });
    const err = await registry.register('s-value', JSON.stringify({ type: 'record', name: 'R', fields: [] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfrastructureError);
    expect((err as Error).message).toMatch(/did not answer registering s-value within 200 ms/);
    expect(fake.posts()).toBe(4);
  } finally {
    await fake.stop();
  }
});

const refuse = (message: string) => (res: http.ServerResponse) => res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 409, message }));

test('the loser of two first registrations at once (Apicurio: rule already exists) registers again', async () => {
  const fake = fakeRegistry((n, res) => (n === 1 ? refuse("A rule named 'COMPATIBILITY' already exists.")(res) : answer(res)));
  const url = await fake.start();
  try {
    await expect(new Registry({ url }).register('s-value', JSON.stringify({ type: 'record', name: 'R', fields: [] }))).resolves.toBe(42);
    expect(fake.posts()).toBe(2);
  } finally {
    await fake.stop();
  }
});

test('an incompatible schema (409) is SCHEMA_MISMATCH at once, not retried', async () => {
  const fake = fakeRegistry((_, res) => refuse('Incompatible schema')(res));
  const url = await fake.start();
  try {
    const err = await new Registry({ url }).register('s-value', JSON.stringify({ type: 'record', name: 'R', fields: [] })).catch((e: unknown) => e);
    expect((err as { reason?: string }).reason).toBe('SCHEMA_MISMATCH');
    expect(fake.posts()).toBe(1);
  } finally {
    await fake.stop();
  }
});

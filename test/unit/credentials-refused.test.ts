import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { report } from '../../src/cli/command';
import { Registry } from '../../src/decode/registry';
import { CredentialsRefusedError, EXIT } from '../../src/errors';

// A refused login is reported as what it is: exit 2 like an outage, the component named, the
// variables to check listed, no password (test/integration/secure-stack.test.ts does the same
// against real servers).

const PASSWORD = 'unit-password-marker-0d1f';

function captureStderr(fn: () => number): { code: number; text: string } {
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = fn();
    return { code, text: spy.mock.calls.map((c) => String(c[0])).join('') };
  } finally {
    spy.mockRestore();
  }
}

test("kafkajs's refused SASL login exits 2 and names Kafka and its settings", () => {
  const err = Object.assign(new Error('SASL SCRAM SHA512 authentication failed: invalid credentials'), { name: 'KafkaJSSASLAuthenticationError' });
  const { code, text } = captureStderr(() => report(err));
  expect(code).toBe(EXIT.infrastructure);
  expect(text).toBe('error: Kafka refused the SASL login (SASL SCRAM SHA512 authentication failed: invalid credentials)\n  check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD\n');
});

test('a registry answering 401 is a refusal that names the user and the settings, not the password', async () => {
  const server = http.createServer((req, res) => { req.resume(); res.writeHead(401, { 'www-authenticate': 'Basic realm="Quarkus"' }).end(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7`;
  try {
    const registry = new Registry({ url, username: 'tracklane', password: PASSWORD });
    const err = await registry.latest('s-value').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsRefusedError);
    expect(err).toMatchObject({ dependency: 'registry', code: 'REGISTRY_UNAVAILABLE', retriable: true });
    const { code, text } = captureStderr(() => report(err));
    expect(code).toBe(EXIT.infrastructure);
    expect(text).toBe(`error: schema registry at ${url} refused user tracklane (HTTP 401) for GET /subjects/s-value/versions/latest\n  check SCHEMA_REGISTRY_USERNAME, SCHEMA_REGISTRY_PASSWORD\n`);
    expect(text).not.toContain(PASSWORD);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

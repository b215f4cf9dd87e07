import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import { classifyKafkaLog, clientRetries, kafkaLogCreatorFor, PERSIST_BOUND_MS, RetryTracker } from '../../src/observability/client-log';
import { createLogger, logFormat } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';

/** A logger whose JSON lines land in an array. */
function capture(format: 'json' | 'pretty' = 'json', level = 'debug') {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done(); } });
  return { lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>), log: createLogger({ format, destination, level }) };
}

// The three lines a demo run printed at level 50 (issue 18), as kafkajs logs them.
const COORDINATOR = { message: 'Response GroupCoordinator(key: 10, version: 2)', broker: '127.0.0.1:9092', error: 'The group coordinator is not available' };
const LOADING = { message: 'Response FindCoordinator(key: 10, version: 2)', broker: '127.0.0.1:9092', error: "The coordinator is loading and hence can't process requests for this group" };
const CONCURRENT = { message: 'Response AddPartitionsToTxn(key: 24, version: 1)', broker: '127.0.0.1:9092', error: 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing' };

describe('kafkajs log lines', () => {
  it('classifies the retried coordinator and transaction conditions by their Kafka error type', () => {
    expect(classifyKafkaLog(COORDINATOR)).toEqual({ retriable: true, reason: 'GROUP_COORDINATOR_NOT_AVAILABLE' });
    expect(classifyKafkaLog(LOADING)).toEqual({ retriable: true, reason: 'GROUP_LOAD_IN_PROGRESS' });
    expect(classifyKafkaLog(CONCURRENT)).toEqual({ retriable: true, reason: 'CONCURRENT_TRANSACTIONS' });
    expect(classifyKafkaLog({ message: 'The group is rebalancing, re-joining' })).toEqual({ retriable: true, reason: 'REBALANCE_IN_PROGRESS' });
    expect(classifyKafkaLog({ message: 'Failed to send messages: The group coordinator is not available', retryCount: 1 }).reason).toBe('GROUP_COORDINATOR_NOT_AVAILABLE');
    expect(classifyKafkaLog({ message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092' })).toEqual({ retriable: true, reason: 'CONNECTION' });
  });

  it('keeps what kafkajs gives up on as a failure', () => {
    expect(classifyKafkaLog({ message: 'SASL PLAIN authentication failed: invalid credentials' })).toEqual({ retriable: false, reason: 'other' });
    expect(classifyKafkaLog({ message: 'Response Produce(key: 0, version: 7)', error: 'Not authorized to access topics: [Topic authorization failed]' })).toEqual({ retriable: false, reason: 'TOPIC_AUTHORIZATION_FAILED' });
    expect(classifyKafkaLog({ message: 'Crash: KafkaJSNonRetriableError: Cluster authorization failed' }).retriable).toBe(false);
  });

  it('logs retried conditions at debug and counts them; a real failure stays an error', () => {
    const c = capture();
    const before = clientRetries('kafka', 'GROUP_COORDINATOR_NOT_AVAILABLE');
    const write = kafkaLogCreatorFor(c.log)();
    write({ level: logLevel.ERROR, log: COORDINATOR });
    write({ level: logLevel.ERROR, log: COORDINATOR });
    write({ level: logLevel.ERROR, log: { message: 'Response Produce(key: 0, version: 7)', error: 'Cluster authorization failed' } });
    const levels = c.json().map((l) => [l.level, l.reason ?? l.error]);
    expect(levels).toEqual([[20, 'GROUP_COORDINATOR_NOT_AVAILABLE'], [20, 'GROUP_COORDINATOR_NOT_AVAILABLE'], [50, 'Cluster authorization failed']]);
    expect(clientRetries('kafka', 'GROUP_COORDINATOR_NOT_AVAILABLE')).toBe(before + 2);
  });

  it('warns once the same condition has lasted past the bound, then at most once per bound', () => {
    const c = capture();
    let now = 1_000_000;
    const write = kafkaLogCreatorFor(c.log, () => now)();
    // Every 5 s for 70 s: warn after 30 s (at 35 s) and again 30 s later (at 70 s).
    for (let t = 0; t <= 70_000; t += 5_000) {
      now = 1_000_000 + t;
      write({ level: logLevel.ERROR, log: LOADING });
    }
    const warns = c.json().filter((l) => l.level === 40);
    expect(warns.map((w) => w.persistedMs)).toEqual([35_000, 70_000]);
    expect(String(warns[0].msg)).toContain('still retrying after 35 s');
    expect(c.json().filter((l) => l.level >= (50 as never))).toHaveLength(0);
  });

  it('starts a new streak when the condition went away for longer than the bound', () => {
    const c = capture();
    let now = 0;
    const tracker = new RetryTracker('redis', c.log, PERSIST_BOUND_MS, () => now);
    for (const t of [0, 20_000, 55_000, 80_000]) {
      now = t;
      tracker.retrying('ECONNREFUSED', {}, 'redis connection error');
    }
    // 20 s -> 55 s is a gap longer than the bound: 55 s starts afresh, 80 s is 25 s into it.
    expect(c.json().map((l) => l.level)).toEqual([20, 20, 20, 20]);
    now = 86_000;
    tracker.retrying('ECONNREFUSED', {}, 'redis connection error');
    expect(c.json().at(-1)!.level).toBe(40);
    tracker.recovered();
    now = 90_000;
    tracker.retrying('ECONNREFUSED', {}, 'redis connection error');
    expect(c.json().at(-1)!.level).toBe(20);
  });

  it('exposes the count as tracklane_client_retries_total{client,reason} with the topology label', async () => {
    const c = capture();
    new RetryTracker('registry', c.log).retrying('TIMEOUT', {}, 'schema registration failed; retrying');
    const text = await createMetrics('client-log-test').registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith('tracklane_client_retries_total{') && l.includes('client="registry"') && l.includes('reason="TIMEOUT"'));
    expect(line).toBeDefined();
    expect(line).toContain('topology="client-log-test"');
    expect(Number(line!.split(' ').at(-1))).toBeGreaterThanOrEqual(1);
  });
});

describe('log format', () => {
  it('is pretty on a terminal, JSON otherwise, and LOG_FORMAT overrides both', () => {
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(logFormat({ LOG_FORMAT: 'PRETTY' }, false)).toBe('pretty');
  });

  it('prints readable lines with the level name and still redacts secrets', () => {
    const c = capture('pretty', 'info');
    c.log.warn({ password: 'hunter2-secret', sasl: { password: 'x' }, broker: 'b:9092' }, 'could not connect');
    expect(c.lines).toHaveLength(1);
    expect(c.lines[0]).toMatch(/WARN.*could not connect/);
    expect(c.lines[0]).toContain('[redacted]');
    expect(c.lines[0]).not.toContain('hunter2-secret');
    expect(() => JSON.parse(c.lines[0])).toThrow();
  });
});

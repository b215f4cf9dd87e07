import { KafkaJSConnectionError, KafkaJSGroupCoordinatorNotFound, KafkaJSLockTimeout, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { isTransient } from '../../src/errors/transient';

// Which errors the batch conductor retries (paused) and which stop the engine. The shapes are
// kafkajs's own: its nested retriers wrap a give-up as KafkaJSNonRetriableError with `cause`.
describe('isTransient', () => {
  const refused = () => new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092', code: 'ECONNREFUSED' });

  it('a broker that is down is an outage, however deep kafkajs wrapped it', () => {
    expect(isTransient(refused())).toBe(true);
    const exhausted = new KafkaJSNumberOfRetriesExceeded(refused(), { retryCount: 5, retryTime: 1000, cause: refused() } as never);
    expect(isTransient(exhausted)).toBe(true);
    // What a Kafka restart produced in the chaos test: the outer retrier's wrapper.
    const wrapped = new KafkaJSNonRetriableError(exhausted, { cause: refused() } as never);
    expect(wrapped.retriable).toBe(false);
    expect(isTransient(wrapped)).toBe(true);
    // What a Kafka restart produced in a later chaos run: no broker answered for the coordinator.
    expect(isTransient(new KafkaJSGroupCoordinatorNotFound('Failed to find group coordinator'))).toBe(true);
    expect(isTransient(new KafkaJSLockTimeout('Timeout while acquiring lock (1 waiting locks)'))).toBe(true);
  });

  it('a bug or a refusal stays fatal', () => {
    expect(isTransient(new TypeError('x is undefined'))).toBe(false);
    expect(isTransient(new KafkaJSNonRetriableError(new TypeError('x is undefined'), { cause: new TypeError('x is undefined') } as never))).toBe(false);
    expect(isTransient(new KafkaJSNonRetriableError('Invalid topics array'))).toBe(false);
    const denied = new KafkaJSProtocolError({ message: 'Not authorized to access topics', type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false } as never);
    expect(isTransient(new KafkaJSNonRetriableError(denied, { cause: denied } as never))).toBe(false);
  });
});

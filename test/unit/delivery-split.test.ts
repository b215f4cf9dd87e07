import { BATCH_OVERHEAD_BYTES, MAX_REQUEST_BYTES, recordBytes, splitBySize, tooLargeForTopic } from '../../src/sink/limits';
import type { OutputMessage } from '../../src/sink/output';

const msg = (topic: string, bytes: number, key = 'k'): OutputMessage => ({ topic, key, value: Buffer.alloc(bytes) });

describe('splitBySize', () => {
  it('keeps small deliveries in one send', () => {
    const messages = Array.from({ length: 100 }, (_, i) => msg('out', 500, `k${i}`));
    expect(splitBySize(messages, new Map())).toEqual([messages]);
  });

  it('cuts sends under the request bound, in order', () => {
    const messages = Array.from({ length: 10 }, (_, i) => msg('out', 300_000, `k${i}`));
    const sends = splitBySize(messages, new Map());
    expect(sends.flat()).toEqual(messages);
    for (const send of sends) expect(send.reduce((n, m) => n + recordBytes(m), 0)).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    expect(sends.map((s) => s.length)).toEqual([3, 3, 3, 1]);
  });

  it('honours a topic limit below the request bound', () => {
    const limits = new Map([['small', 250_000]]);
    const sends = splitBySize([msg('small', 100_000), msg('small', 100_000), msg('small', 100_000), msg('big', 100_000)], limits);
    expect(sends.map((s) => s.map((m) => m.topic))).toEqual([['small', 'small'], ['small', 'big']]);
  });

  it('sends a record alone when it is bigger than the bound but fits its topic', () => {
    const limits = new Map([['out', 5_000_000]]);
    const sends = splitBySize([msg('out', 10), msg('out', 2_000_000), msg('out', 10)], limits);
    expect(sends.map((s) => s.length)).toEqual([1, 1, 1]);
  });
});

describe('tooLargeForTopic', () => {
  it('compares a record in a batch of its own with the topic limit (Kafka default when unknown)', () => {
    const limit = 1_048_588;
    const fits = limit - BATCH_OVERHEAD_BYTES - recordBytes(msg('out', 0));
    expect(tooLargeForTopic(msg('out', fits), new Map())).toBe(false);
    expect(tooLargeForTopic(msg('out', fits + 1), new Map())).toBe(true);
    expect(tooLargeForTopic(msg('out', fits + 1), new Map([['out', 2_000_000]]))).toBe(false);
  });
});

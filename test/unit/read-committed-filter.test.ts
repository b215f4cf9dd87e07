import { filterAbortedMessages, type FetchedMessage } from '../helpers/read-committed';

// The read_committed filter the exactly-once tests install into kafkajs, next to kafkajs's
// own, on the two fetch shapes that make kafkajs 2.2.4 leak aborted records.
const kafkajsFilter = require('kafkajs/src/consumer/filterAbortedMessages') as typeof filterAbortedMessages;

const record = (offset: number, producerId: string, inTransaction = true): FetchedMessage & { id: string } => ({
  id: `${producerId}:${offset}`, offset: String(offset), key: Buffer.from(`k${offset}`), isControlRecord: false, batchContext: { producerId, inTransaction },
});
const marker = (offset: number, producerId: string, type: 0 | 1): FetchedMessage & { id: string } => {
  const key = Buffer.alloc(4);
  key.writeInt16BE(type, 2); // version 0, type 0 = ABORT, 1 = COMMIT
  return { id: `${type ? 'commit' : 'abort'}:${producerId}:${offset}`, offset: String(offset), key, isControlRecord: true, batchContext: { producerId, inTransaction: true } };
};
const kept = (messages: Array<FetchedMessage & { id: string }>) => messages.filter((m) => !m.isControlRecord).map((m) => m.id);

describe('read_committed filter (aborted transactions)', () => {
  // p1 and p2 both aborted; the broker lists them in abort order: p2 first.
  const messages = [record(0, 'p1'), record(1, 'p1'), record(2, 'p2'), record(3, 'p2'), marker(4, 'p2', 0), marker(5, 'p1', 0), record(6, 'p3'), marker(7, 'p3', 1), record(8, 'p1')];
  const abortedTransactions = [{ producerId: 'p2', firstOffset: '2' }, { producerId: 'p1', firstOffset: '0' }];

  test('aborted transactions listed out of first-offset order', () => {
    expect(kept(filterAbortedMessages({ messages, abortedTransactions }))).toEqual(['p3:6', 'p1:8']);
    // kafkajs 2.2.4 hands p1's aborted records to the application.
    expect(kept(kafkajsFilter({ messages, abortedTransactions }))).toEqual(['p1:0', 'p1:1', 'p3:6', 'p1:8']);
  });

  test('a fetch that starts inside two aborted transactions', () => {
    const fetched = [record(10, 'p2'), record(11, 'p1'), record(12, 'p2'), marker(13, 'p1', 0), marker(14, 'p2', 0), record(15, 'p4', false)];
    const aborted = [{ producerId: 'p1', firstOffset: '5' }, { producerId: 'p2', firstOffset: '7' }];
    expect(kept(filterAbortedMessages({ messages: fetched, abortedTransactions: aborted }))).toEqual(['p4:15']);
    expect(kept(kafkajsFilter({ messages: fetched, abortedTransactions: aborted }))).toEqual(['p2:10', 'p4:15']);
  });

  test('committed transactions of a producer between its aborted ones stay', () => {
    const fetched = [record(0, 'p1'), marker(1, 'p1', 0), record(2, 'p1'), marker(3, 'p1', 1), record(4, 'p1'), marker(5, 'p1', 0)];
    expect(kept(filterAbortedMessages({ messages: fetched, abortedTransactions: [{ producerId: 'p1', firstOffset: '4' }, { producerId: 'p1', firstOffset: '0' }] }))).toEqual(['p1:2']);
  });
});

describe('the corrected filter is the one kafkajs uses', () => {
  it('kafkajs Batch drops records of every aborted transaction (jest maps the module like bin/tracklane.js does)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Batch = require('kafkajs/src/consumer/batch');
    const messages = [record(0, 'p1'), record(1, 'p1'), record(2, 'p2'), record(3, 'p2'), marker(4, 'p2', 0), marker(5, 'p1', 0), record(6, 'p3'), marker(7, 'p3', 1), record(8, 'p1')];
    const batch = new Batch('t', 0, { partition: 0, highWatermark: '9', messages, abortedTransactions: [{ producerId: 'p2', firstOffset: '2' }, { producerId: 'p1', firstOffset: '0' }] });
    expect(batch.messages.map((m: { id: string }) => m.id)).toEqual(['p3:6', 'p1:8']);
  });
});

// A correct read_committed filter for kafkajs 2.2.4 (its last release).
//
// kafkajs's own `src/consumer/filterAbortedMessages.js` walks the fetch response's list of
// aborted transactions as if it were sorted by first offset, and activates at most one of
// them per message. Kafka does not sort that list (it comes from the transaction index, in
// the order the transactions were aborted), and one fetch often overlaps several aborted
// transactions: each input partition's transactional producer writes into every output
// partition. When a killed engine leaves transactions open and the restarted one aborts them
// in another order, kafkajs hands records of aborted transactions to a read_committed
// consumer. The Java consumer keeps these transactions in a priority queue by first offset;
// this does the same. kafkajs-patches/index.ts puts it in place of kafkajs's own.

export interface FetchedMessage {
  offset: string;
  key?: Buffer | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

export interface AbortedTransaction { producerId: string; firstOffset: string }

/** A control record whose key says ABORT (version 0, type 0). */
function isAbortMarker(m: FetchedMessage): boolean {
  return !!m.isControlRecord && !!m.key && m.key.length >= 4 && m.key.readInt16BE(0) === 0 && m.key.readInt16BE(2) === 0;
}

/** Drops the records of aborted transactions; control records stay (kafkajs's Batch removes them next). */
export function filterAbortedMessages<M extends FetchedMessage>({ messages, abortedTransactions }: { messages: M[]; abortedTransactions?: AbortedTransaction[] }): M[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  const pending = [...abortedTransactions].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : BigInt(a.firstOffset) > BigInt(b.firstOffset) ? 1 : 0));
  const aborting = new Set<string>();
  return messages.filter((m) => {
    const offset = BigInt(m.offset);
    // Every aborted transaction that has started by this offset, not just the next one.
    while (pending.length > 0 && BigInt(pending[0].firstOffset) <= offset) aborting.add(String(pending.shift()!.producerId));
    const producerId = String(m.batchContext.producerId);
    if (isAbortMarker(m)) {
      aborting.delete(producerId);
      return true;
    }
    return !(m.batchContext.inTransaction && aborting.has(producerId));
  });
}

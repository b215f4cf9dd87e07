/* eslint-disable @typescript-eslint/no-require-imports */
import Module from 'node:module';
import { filterAbortedMessages } from './read-committed';
import { createRecordDecoder } from './record-headers';

// Two fixes for kafkajs 2.2.4 (its last release), put in place of kafkajs's own modules by
// seeding Node's module cache before kafkajs loads them: kafkajs captures both when its
// consumer and protocol modules are first required, so nothing can swap them later.
// - read-committed.ts: its read_committed filter leaks records of aborted transactions;
// - record-headers.ts: its record decoder is quadratic in the number of headers.
// install() is explicit (the engine and bin/tracklane.js call it; importing any Tracklane
// module has no side effect) and idempotent. jest maps the filter in jest.config.js instead.

/**
 * `capturedBy`: the kafkajs module that keeps its own reference once loaded (loaded eagerly
 * by kafkajs's index). `works`: whether the kafkajs already loaded behaves correctly anyway
 * (jest maps the filter in jest.config.js; a host that installed the fix itself).
 */
const PATCHES: ReadonlyArray<{ target: string; capturedBy: string[]; exports: () => unknown; works?: () => boolean }> = [
  { target: 'kafkajs/src/consumer/filterAbortedMessages', capturedBy: ['kafkajs/src/consumer/batch'], exports: () => filterAbortedMessages, works: readCommittedWorks },
  // Required lazily, on the first fetch.
  { target: 'kafkajs/src/protocol/recordBatch/record/v0/decoder', capturedBy: [], exports: createRecordDecoder },
];

export interface PatchState {
  /** Every patch is in place (now or from an earlier call). */
  installed: boolean;
  /** Patches that could not be installed because kafkajs had already loaded the module. */
  tooLate: string[];
}

const seeded = new Map<string, unknown>();

function resolved(id: string): string | undefined {
  try {
    return require.resolve(id);
  } catch {
    return undefined; // another kafkajs layout: leave it alone
  }
}

/**
 * Two overlapping aborted transactions listed out of order (as Kafka may list them): kafkajs's
 * own filter lets the first one's record through, the fixed one drops both.
 */
function readCommittedWorks(): boolean {
  try {
    const Batch = require('kafkajs/src/consumer/batch') as new (topic: string, fetchedOffset: string, data: unknown) => { messages: unknown[] };
    const inTx = (offset: string, producerId: string) => ({ offset, batchContext: { producerId, inTransaction: true } });
    const batch = new Batch('probe', '0', {
      partition: 0,
      highWatermark: '2',
      abortedTransactions: [{ producerId: '2', firstOffset: '1' }, { producerId: '1', firstOffset: '0' }],
      messages: [inTx('0', '1'), inTx('1', '2')],
    });
    return batch.messages.length === 0;
  } catch {
    return false;
  }
}

/** Puts every patch in place unless kafkajs already loaded the module it replaces. */
export function install(): PatchState {
  const tooLate: string[] = [];
  if (typeof require.cache !== 'object' || require.cache === null) return { installed: false, tooLate: PATCHES.map((p) => p.target) };
  for (const patch of PATCHES) {
    const file = resolved(patch.target);
    if (!file) continue;
    const current = require.cache[file];
    if (current && seeded.has(file) && current.exports === seeded.get(file)) continue; // installed before
    const captured = patch.capturedBy.some((id) => {
      const by = resolved(id);
      return !!by && !!require.cache[by];
    });
    if (captured || current) {
      if (!patch.works?.()) tooLate.push(patch.target);
      continue;
    }
    const m = new Module(file, module);
    m.filename = file;
    m.loaded = true;
    m.exports = patch.exports();
    require.cache[file] = m;
    seeded.set(file, m.exports);
  }
  return { installed: tooLate.length === 0, tooLate };
}

import Module from 'node:module';
import { filterAbortedMessages } from './read-committed';

const TARGET = 'kafkajs/src/consumer/filterAbortedMessages';

/**
 * Replaces kafkajs's read_committed filter (see read-committed.ts) by seeding Node's module
 * cache before kafkajs loads, since kafkajs captures the function when its consumer module
 * is first required. The CLI entry (bin/tracklane.js) calls this first; jest maps the module
 * in jest.config.js. Returns false when kafkajs was already loaded (too late to replace).
 */
export function installKafkajsReadCommittedFix(): boolean {
  const file = require.resolve(TARGET);
  const batch = require.resolve('kafkajs/src/consumer/batch');
  if (require.cache[batch]) return require.cache[file]?.exports === filterAbortedMessages;
  const m = new Module(file);
  m.filename = file;
  m.loaded = true;
  m.exports = filterAbortedMessages;
  require.cache[file] = m;
  return true;
}

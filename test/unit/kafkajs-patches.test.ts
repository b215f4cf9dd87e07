import { execFileSync } from 'node:child_process';
import path from 'node:path';

// Importing Tracklane (the SDK, the engine) changes nothing in kafkajs; the engine's explicit
// install() puts the fixes in place. Checked in a fresh Node process each (jest has its own
// module registry), loading src/ through TypeScript's transpiler.

const ROOT = path.resolve(__dirname, '../..');
const HOOK = `
const ts = require('typescript'); const fs = require('fs');
require.extensions['.ts'] = (m, f) => m._compile(ts.transpileModule(fs.readFileSync(f, 'utf8'), { compilerOptions: { module: 'commonjs', target: 'es2022', esModuleInterop: true } }).outputText, f);
const cached = (id) => !!require.cache[require.resolve(id)];
// Records kafkajs hands a read_committed consumer from two overlapping aborted transactions
// listed out of order: 1 with kafkajs's own filter, 0 with the fix.
const leaked = () => {
  const Batch = require('kafkajs/src/consumer/batch');
  const inTx = (offset, producerId) => ({ offset, batchContext: { producerId, inTransaction: true } });
  return new Batch('t', '0', { partition: 0, highWatermark: '2', abortedTransactions: [{ producerId: '2', firstOffset: '1' }, { producerId: '1', firstOffset: '0' }], messages: [inTx('0', '1'), inTx('1', '2')] }).messages.length;
};
`;

function run(script: string): unknown {
  const out = execFileSync(process.execPath, ['-e', HOOK + script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('kafkajs patches', () => {
  it('importing the SDK loads kafkajs unpatched and installs nothing', () => {
    expect(run(`
      require('./src/index.ts');
      console.log(JSON.stringify({ kafkajs: cached('kafkajs'), decoderSeeded: cached('kafkajs/src/protocol/recordBatch/record/v0/decoder'), leaked: leaked() }));
    `)).toEqual({ kafkajs: true, decoderSeeded: false, leaked: 1 });
  });

  it('importing the engine does not load kafkajs; install() then fixes it, once', () => {
    expect(run(`
      require('./src/engine/index.ts');
      const before = cached('kafkajs');
      const { install } = require('./src/source/kafkajs-patches/index.ts');
      const first = install();
      const second = install();
      require('kafkajs');
      console.log(JSON.stringify({ before, first, second, leaked: leaked() }));
    `)).toEqual({ before: false, first: { installed: true, tooLate: [] }, second: { installed: true, tooLate: [] }, leaked: 0 });
  });

  it('says when kafkajs was loaded first and still leaks', () => {
    expect(run(`
      require('kafkajs');
      const { install } = require('./src/source/kafkajs-patches/index.ts');
      console.log(JSON.stringify(install()));
    `)).toEqual({ installed: false, tooLate: ['kafkajs/src/consumer/filterAbortedMessages'] });
  });
});

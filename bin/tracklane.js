#!/usr/bin/env node
// Runs the compiled CLI; `npm run build` (done by npm test and the demo) produces dist/.
// First, before kafkajs loads: its read_committed filter leaks aborted records (src/source/read-committed.ts).
require('../dist/src/source/kafkajs-fix.js').installKafkajsReadCommittedFix();
require('../dist/src/cli/main.js');

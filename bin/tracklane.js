#!/usr/bin/env node
// Runs the compiled CLI; `npm run build` (done by npm test and the demo) produces dist/.
// First, before kafkajs loads: two kafkajs bugs fixed in place (src/source/kafkajs-patches/).
require('../dist/src/source/kafkajs-patches/index.js').install();
require('../dist/src/cli/main.js');

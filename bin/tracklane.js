#!/usr/bin/env node
// Runs the compiled CLI; `npm run build` (done by npm test and the demo) produces dist/.
require('../dist/src/cli/main.js');

// `tracklane bench` without the main CLI: node dist/bench/main.js [--quick] [flags]
// (the same flags; see bench/README.md).
import './patches';
import { Command } from 'commander';
import { registerBench } from '../src/cli/bench';

const program = new Command('tracklane').showHelpAfterError();
registerBench(program);
program.parseAsync(['node', 'tracklane', 'bench', ...process.argv.slice(2)]).catch((err: Error) => {
  process.stderr.write(`error: ${err.message}\n`);
  process.exitCode = 1;
});

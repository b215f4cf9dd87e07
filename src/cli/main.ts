import { Command } from 'commander';
import { version } from '../../package.json';
import { registerBench } from './bench';
import { registerCheck } from './check';
import { registerConsume } from './consume';
import { registerDemo } from './demo';
import { registerInit } from './init';
import { registerProduce } from './produce';
import { registerReplay } from './replay';
import { registerRules } from './rules';
import { registerRun } from './run';
import { registerSdk } from './sdk';
import { registerStack } from './stack';

const program = new Command('tracklane')
  .description('Streaming enrichment and SLO engine on Kafka')
  .version(version)
  .showHelpAfterError();

registerStack(program);
registerCheck(program);
registerInit(program);
registerRun(program);
registerProduce(program);
registerConsume(program);
registerRules(program);
registerReplay(program);
registerDemo(program);
registerBench(program);
registerSdk(program);

program
  .parseAsync(process.argv)
  .catch((err) => {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  })
  // A command is over when its action returns; a client that still reconnects in the
  // background (after an error) must not keep the process alive. unref: a clean exit wins.
  .finally(() => setTimeout(() => process.exit(), 2_000).unref());

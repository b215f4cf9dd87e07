import { Command } from 'commander';
import { version } from '../../package.json';
import { registerAlerts } from './alerts';
import { registerBench } from './bench';
import { registerCheck } from './check';
import { registerCompletion } from './completion';
import { registerConsume } from './consume';
import { registerContract } from './contract';
import { registerDemo } from './demo';
import { attachEnvHelp } from './env-help';
import { registerInit } from './init';
import { registerProduce } from './produce';
import { registerReplay } from './replay';
import { registerRules } from './rules';
import { registerRun } from './run';
import { registerSdk } from './sdk';
import { registerSlo } from './slo';
import { registerStack } from './stack';

/** The whole command tree, apart from parsing (main.ts), so tests can read its help and completion. */
export function createProgram(): Command {
  const program = new Command('tracklane')
    .description('Streaming enrichment and SLO engine on Kafka')
    .version(version)
    .showHelpAfterError();

  registerStack(program);
  registerCheck(program);
  registerContract(program);
  registerInit(program);
  registerRun(program);
  registerProduce(program);
  registerConsume(program);
  registerRules(program);
  registerAlerts(program);
  registerSlo(program);
  registerReplay(program);
  registerDemo(program);
  registerBench(program);
  registerSdk(program);
  registerCompletion(program);
  attachEnvHelp(program);
  return program;
}

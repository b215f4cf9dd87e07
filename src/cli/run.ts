import type { Command } from 'commander';
import { Engine } from '../engine';
import { loadTopology } from '../topology/load';
import { EXIT, UserError } from '../errors';
import { action } from './command';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the engine on a topology until SIGTERM/SIGINT')
    .requiredOption('-t, --topology <file>', 'topology YAML')
    .option('--metrics-port <n>', 'port of /metrics, /healthz, /readyz and the status page', process.env.TRACKLANE_METRICS_PORT ?? '9464')
    .option('--instance-id <id>', 'name of this instance in lineage and logs')
    .action(
      action(async (opts: { topology: string; metricsPort: string; instanceId?: string }) => {
        const topology = loadTopology(opts.topology);
        const port = Number(opts.metricsPort);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--metrics-port ${opts.metricsPort}: expected a port number (0 turns the HTTP server off)`);
        const engine = new Engine({ topology, instanceId: opts.instanceId, metricsPort: port });
        await engine.start();
        process.stderr.write(`tracklane: ${topology.name} v${topology.version} running (${topology.delivery}); metrics on :${opts.metricsPort}/metrics\n`);
        const failed = await new Promise<boolean>((resolve) => {
          const stop = () => resolve(false);
          process.once('SIGTERM', stop);
          process.once('SIGINT', stop);
          // The engine stopped itself (logged why): exit 1 so an orchestrator restarts it.
          void engine.failed.then(() => resolve(true));
        });
        await engine.stop();
        return failed ? EXIT.user : EXIT.ok;
      }),
    );
}

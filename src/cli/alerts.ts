import type { Command } from 'commander';
import { AlertDecoder } from '../alerts/decode';
import { AlertForwarder } from '../alerts/forwarder';
import { parseTargets } from '../alerts/targets';
import { Registry, registryOptionsFromEnv } from '../decode/registry';
import { UserError } from '../errors';
import { logger } from '../observability/logger';
import { createKafka } from '../source/kafka';
import { loadTopology } from '../topology/load';
import { action, parseFlagDuration } from './command';

interface ForwardFlags { topology: string; to: string; group?: string; resendInterval: string; generatorUrl?: string }

/** `tracklane alerts forward -t FILE --to alertmanager=URL[,pagerduty=URL]` (docs/alerting.md). */
export function registerAlerts(program: Command): void {
  const alerts = program.command('alerts').description('deliver the alerts topic to paging systems');
  alerts
    .command('forward')
    .description('deliver each alert transition once to Alertmanager and/or PagerDuty Events v2, until SIGTERM/SIGINT')
    .requiredOption('-t, --topology <file>', 'topology YAML (its outputs.alerts topic and format)')
    .requiredOption('--to <targets>', 'alertmanager=URL[,pagerduty=URL]; a URL without a path gets /api/v2/alerts or /v2/enqueue')
    .option('--group <id>', 'consumer group (default <topology>-alerts-forward)')
    .option('--resend-interval <duration>', 'how often firing alerts are re-sent to Alertmanager (they live 4 intervals there)', '1m')
    .option('--generator-url <url>', 'generatorURL of the Alertmanager alerts (e.g. the status page)')
    .action(
      action(async (opts: ForwardFlags) => {
        const topology = loadTopology(opts.topology);
        const output = topology.outputs.alerts;
        if (!output) throw new UserError(`topology ${topology.name} has no outputs.alerts: it publishes no alerts to forward`);
        const resendIntervalMs = parseFlagDuration(opts.resendInterval, '--resend-interval');
        if (resendIntervalMs < 1000) throw new UserError(`--resend-interval ${opts.resendInterval}: at least 1s`);
        const targets = parseTargets(opts.to, {
          resendIntervalMs,
          routingKey: process.env.TRACKLANE_PAGERDUTY_ROUTING_KEY,
          generatorURL: opts.generatorUrl,
        });
        const groupId = opts.group ?? `${topology.name}-alerts-forward`;
        const kafka = createKafka(`tracklane-alerts-${topology.name}`);
        const admin = kafka.admin();
        await admin.connect();
        const exists = (await admin.listTopics()).includes(output.topic);
        await admin.disconnect();
        if (!exists) throw new UserError(`topic ${output.topic} does not exist`, [`run \`tracklane init -t ${opts.topology}\` first`]);
        const log = logger.child({ stage: 'alerts-forward', topology: topology.name });
        const forwarder = new AlertForwarder({
          kafka, topic: output.topic, groupId, resendIntervalMs, log, targets,
          decoder: new AlertDecoder(output.format, new Registry(registryOptionsFromEnv())),
        });
        await forwarder.start();
        process.stderr.write(`tracklane: forwarding ${output.topic} to ${targets.map((t) => t.name).join(', ')} (group ${groupId})\n`);
        const stopped = new Promise<void>((resolve) => {
          process.once('SIGTERM', () => resolve());
          process.once('SIGINT', () => resolve());
        });
        try {
          await Promise.race([stopped, forwarder.failed]);
        } finally {
          await forwarder.stop();
        }
      }),
    );
}

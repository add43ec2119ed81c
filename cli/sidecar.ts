// `meshflow sidecar`: the built-in sidecar proxy for one service host.
import type { Command } from 'commander';
import { pino } from 'pino';
import { loadSidecarConfig } from '../bridge/sidecar/config.ts';
import { BuiltinSidecar } from '../bridge/sidecar/sidecar.ts';

export function register(program: Command): void {
  program
    .command('sidecar')
    .description('run the built-in sidecar: an HTTP proxy that splits calls across replicas by the weights the bridge publishes')
    .requiredOption('--config <file>', 'sidecar config (JSON): id, listen, admin, services with replica addresses, ingress rules; see bridge/README.md')
    .option('--mqtt-url <url>', 'hint bus broker (overrides mqttUrl in the config); without any, even weights only')
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (opts: { config: string; mqttUrl?: string; logLevel: string }) => {
      const log = pino({ level: opts.logLevel });
      const config = await loadSidecarConfig(opts.config);
      const sidecar = new BuiltinSidecar({ config, log, ...(opts.mqttUrl ? { mqttUrl: opts.mqttUrl } : {}) });
      const addr = await sidecar.start();
      log.info({ id: config.id, ...addr }, 'sidecar: listening');
      await untilSignal();
      await sidecar.stop();
    });
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

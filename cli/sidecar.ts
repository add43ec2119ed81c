// `meshflow sidecar`: the built-in sidecar proxy for one service host.
import { Option, type Command } from 'commander';
import { LOG_LEVELS } from './logger.ts';
import { addBusClientOptions, busConnectOptions, mqttUrlsOption, type BusClientFlags } from './bus-flags.ts';
import { loadFileCheckedAsync } from './files.ts';
import { KEY_DIR_FLAG, KEY_DIR_HELP, trustFor, trustSpecOption } from './keys.ts';
import { pino } from 'pino';
import { loadSidecarConfig } from '../bridge/sidecar/config.ts';
import { BuiltinSidecar } from '../bridge/sidecar/sidecar.ts';

export function register(program: Command): void {
  const cmd = program
    .command('sidecar')
    .description('run the built-in sidecar: an HTTP proxy that splits calls across replicas by the weights the bridge publishes')
    .requiredOption('--config <file>', 'sidecar config (JSON): id, listen, admin, services with replica addresses, ingress rules; see bridge/README.md')
    .option('--mqtt-url <url>', 'hint bus broker (overrides mqttUrl in the config; several brokers of one cluster: a comma list); without any, even weights only', mqttUrlsOption)
    .addOption(new Option('--log-level <level>', 'pino log level').choices(LOG_LEVELS).default('info'))
    .option('--trust-bridge <id=file...>', 'take weights only from bridges signing with these public keys (<bridge id>=<id>.pub, repeatable); default: every key in --key-dir', trustSpecOption)
    .option(KEY_DIR_FLAG, KEY_DIR_HELP);
  addBusClientOptions(cmd, 'the id in --config').action(async (opts: { config: string; mqttUrl?: string; logLevel: string; trustBridge?: string[]; keyDir?: string } & BusClientFlags) => {
      const log = pino({ level: opts.logLevel });
      const config = await loadFileCheckedAsync('sidecar config', '--config', opts.config, loadSidecarConfig);
      // Weights are verified by default: an unsigned or forged weights hint changes nothing.
      const trust = await trustFor(opts.trustBridge, opts.keyDir, '--trust-bridge');
      const sidecar = new BuiltinSidecar({ config, log, trust, bus: busConnectOptions(opts, config.id), ...(opts.mqttUrl ? { mqttUrl: opts.mqttUrl } : {}) });
      const addr = await sidecar.start();
      log.info({ id: config.id, ...addr }, 'sidecar: listening');
      await untilSignal();
      await sidecar.stop();
    });
}

/** Resolves on SIGINT or SIGTERM; from then on the process has 1.5 s to stop before it exits anyway. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      setTimeout(() => process.exit(1), 1500).unref();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

// `meshflow bridge`: registry + weight policy + adapters + intents, with its REST API.
import { InvalidArgumentError, type Command } from 'commander';
import { pino } from 'pino';
import { buildApi } from '../bridge/api.ts';
import { Bridge } from '../bridge/bridge.ts';
import { emptyRegistry, loadRegistry } from '../bridge/registry.ts';
import { RegistryStore } from '../bridge/registry-store.ts';

interface BridgeFlags {
  mqttUrl: string;
  registry?: string;
  controllerUrl?: string;
  apiPort: number;
  apiHost: string;
  weightsTtl: number;
  logLevel: string;
}

export function register(program: Command): void {
  program
    .command('bridge')
    .description('run the mesh bridge: cost rows and events in, sidecar weights and path intents out')
    .option('--mqtt-url <url>', 'hint bus broker', 'mqtt://127.0.0.1:1883')
    .option('--registry <file>', 'services file (YAML or JSON): services, replicas, sidecars, attachments; see bridge/README.md')
    .option('--controller-url <url>', 'controller REST base URL for intents (e.g. http://127.0.0.1:8080); none: no intents')
    .option('--api-port <port>', 'port of the bridge REST API (registry, weights)', intArg, 8181)
    .option('--api-host <host>', 'address the REST API binds', '127.0.0.1')
    .option('--weights-ttl <ms>', 'ttl of published weights; they are re-sent every ttl/3', intArg, 30_000)
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (opts: BridgeFlags) => {
      const log = pino({ level: opts.logLevel });
      const store = new RegistryStore(opts.registry ? await loadRegistry(opts.registry) : emptyRegistry);
      const bridge = new Bridge({
        mqttUrl: opts.mqttUrl,
        registry: store,
        log,
        weightsTtlMs: opts.weightsTtl,
        ...(opts.controllerUrl ? { controllerUrl: opts.controllerUrl } : {}),
      });
      await bridge.start();
      const api = buildApi(store, bridge);
      await api.listen({ port: opts.apiPort, host: opts.apiHost });
      log.info({ api: `http://${opts.apiHost}:${opts.apiPort}` }, 'bridge: running');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await api.close();
      await bridge.stop();
    });
}

function intArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

// `meshflow bridge`: registry + weight policy + adapters + intents, with its REST API.
import type { Command } from 'commander';
import { intOption } from './options.ts';
import { pino } from 'pino';
import { buildApi } from '../bridge/api.ts';
import { Bridge } from '../bridge/bridge.ts';
import { emptyRegistry, loadRegistry } from '../bridge/registry.ts';
import { RegistryStore } from '../bridge/registry-store.ts';
import { BridgeMetrics } from '../bridge/metrics.ts';
import { bearerAuth, requireTokenInProduction } from '../controller/api/auth.ts';

interface BridgeFlags {
  mqttUrl: string;
  registry?: string;
  controllerUrl?: string;
  controllerToken?: string;
  apiPort: number;
  apiHost: string;
  weightsTtl: number;
  logLevel: string;
  apiToken?: string;
  production: boolean;
}

export function register(program: Command): void {
  program
    .command('bridge')
    .description('run the mesh bridge: cost rows and events in, sidecar weights and path intents out')
    .option('--mqtt-url <url>', 'hint bus broker', 'mqtt://127.0.0.1:1883')
    .option('--registry <file>', 'services file (YAML or JSON): services, replicas, sidecars, attachments; see bridge/README.md')
    .option('--controller-url <url>', 'controller REST base URL for intents (e.g. http://127.0.0.1:8080); none: no intents')
    .option('--controller-token <token>', 'bearer token the controller requires for intents (its --api-token)')
    .option('--api-port <port>', 'port of the bridge REST API (registry, weights)', intOption, 8181)
    .option('--api-host <host>', 'address the REST API binds', '127.0.0.1')
    .option('--weights-ttl <ms>', 'ttl of published weights; they are re-sent every ttl/3', intOption, 30_000)
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--api-token <token>', 'bearer token that PUT and DELETE on the REST API must carry; none: the API is open')
    .option('--production', 'refuse to start without --api-token (NODE_ENV=production does the same)', false)
    .action(async (opts: BridgeFlags) => {
      requireTokenInProduction('the bridge', opts);
      const log = pino({ level: opts.logLevel });
      const metrics = new BridgeMetrics();
      const store = new RegistryStore(opts.registry ? await loadRegistry(opts.registry) : emptyRegistry);
      const bridge = new Bridge({
        mqttUrl: opts.mqttUrl,
        registry: store,
        log,
        weightsTtlMs: opts.weightsTtl,
        metrics,
        ...(opts.controllerUrl ? { controllerUrl: opts.controllerUrl } : {}),
        ...(opts.controllerToken ? { controllerToken: opts.controllerToken } : {}),
      });
      await bridge.start();
      const api = buildApi(store, bridge, { metrics, ...(opts.apiToken ? { authenticate: bearerAuth(opts.apiToken) } : {}) });
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

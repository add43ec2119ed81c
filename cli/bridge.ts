// `meshflow bridge`: registry + weight policy + adapters + intents, with its REST API.
import { Option, type Command } from 'commander';
import { LOG_LEVELS } from './logger.ts';
import { HTTP_SCHEMES, msOption, portOption, urlListOption } from './options.ts';
import { checkBroker } from './reachable.ts';
import { addBusClientOptions, busConnectOptions, mqttUrlsOption, type BusClientFlags } from './bus-flags.ts';
import { loadFileCheckedAsync } from './files.ts';
import { KEY_DIR_FLAG, KEY_DIR_HELP, keyIdOption, signerFor, trustFor, trustSpecOption } from './keys.ts';
import { pino } from 'pino';
import { buildApi } from '../bridge/api.ts';
import { Bridge } from '../bridge/bridge.ts';
import { LEVER_MODES, type LeverMode } from '../bridge/levers.ts';
import { emptyRegistry, loadRegistry } from '../bridge/registry.ts';
import { RegistryStore } from '../bridge/registry-store.ts';
import { BridgeMetrics } from '../bridge/metrics.ts';
import { bearerAuth, requireTokenInProduction } from '../controller/api/auth.ts';

interface BridgeFlags extends BusClientFlags {
  mqttUrl: string;
  registry?: string;
  controllerUrl?: string;
  levers: LeverMode;
  controllerToken?: string;
  apiPort: number;
  apiHost: string;
  weightsTtl: number;
  logLevel: string;
  apiToken?: string;
  production: boolean;
  bridgeId: string;
  keyDir?: string;
  trustController?: readonly string[];
}

/** SIGTERM ends the bridge within 2 s whatever is down. */
const STOP_DEADLINE_MS = 1500;

export function register(program: Command): void {
  const cmd = program
    .command('bridge')
    .description('run the mesh bridge: cost rows and events in, sidecar weights and path intents out')
    .option('--mqtt-url <url>', 'hint bus broker (mqtt, mqtts, ws, wss; several brokers of one cluster: a comma list, tried in order); must answer at start', mqttUrlsOption, 'mqtt://127.0.0.1:1883')
    .option('--registry <file>', 'services file (YAML or JSON): services, replicas, sidecars, attachments; see bridge/README.md')
    .option('--controller-url <url>', 'controller REST base URL for intents (e.g. http://127.0.0.1:8080; a group of controllers: a comma list, the one that speaks for the group is used); none: no intents', urlListOption(HTTP_SCHEMES))
    .option('--controller-token <token>', 'bearer token the controller requires for intents (its --api-token)')
    .option('--api-port <port>', 'port of the bridge REST API (registry, weights; 0: any free port)', portOption, 8181)
    .option('--api-host <host>', 'address the REST API binds', '127.0.0.1')
    .addOption(new Option('--levers <mode>', 'arbitrated: one arbiter moves paths or weights and holds each change (default); independent: each lever with its own loop, as a mesh beside a separate traffic-engineering system').choices(LEVER_MODES).default('arbitrated'))
    .option('--weights-ttl <ms>', 'ttl of published weights (300..3600000); they are re-sent every ttl/3', msOption(300, 3_600_000, 'weights are re-sent every ttl/3'), 30_000)
    .addOption(new Option('--log-level <level>', 'pino log level').choices(LOG_LEVELS).default('info'))
    .option('--api-token <token>', 'bearer token that PUT and DELETE on the REST API must carry; none: the API is open')
    .option('--production', 'refuse to start without --api-token (NODE_ENV=production does the same)', false)
    .option('--bridge-id <id>', 'names this bridge: its signing key id, and its persistent MQTT session (one bridge per id)', keyIdOption, 'bridge')
    .option('--trust-controller <id=file...>', "take cost rows and events only from controllers signing with these public keys (<controller id>=<id>.pub, repeatable); default: every key in --key-dir", trustSpecOption)
    .option(KEY_DIR_FLAG, KEY_DIR_HELP);
  addBusClientOptions(cmd, 'the --bridge-id').action(async (opts: BridgeFlags) => {
      // Every value is checked before anything starts: bad values exit 2, a broker out of reach 3.
      requireTokenInProduction('the bridge', opts);
      const registry = opts.registry ? await loadFileCheckedAsync('registry', '--registry', opts.registry, loadRegistry) : emptyRegistry;
      const bus = busConnectOptions(opts, opts.bridgeId);
      await checkBroker(opts.mqttUrl, '--mqtt-url', undefined, bus);
      const log = pino({ level: opts.logLevel });
      // Secure by default: hints are verified, against the keys named or the ones on this machine.
      const signer = await signerFor(opts.keyDir, opts.bridgeId, log);
      const trust = await trustFor(opts.trustController, opts.keyDir, '--trust-controller');
      const metrics = new BridgeMetrics();
      const store = new RegistryStore(registry);
      const bridge = new Bridge({
        mqttUrl: opts.mqttUrl,
        bus,
        registry: store,
        log,
        weightsTtlMs: opts.weightsTtl,
        metrics,
        source: opts.bridgeId,
        signer,
        trust,
        levers: opts.levers,
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
      // A broker that is down never acknowledges the goodbye: the stop is bounded like the controller's.
      setTimeout(() => {
        log.warn({ afterMs: STOP_DEADLINE_MS }, 'bridge: stop took too long: exiting anyway');
        process.exit(1);
      }, STOP_DEADLINE_MS).unref();
      await api.close();
      await bridge.stop();
    });
}

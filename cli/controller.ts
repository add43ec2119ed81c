// meshflow controller: the OpenFlow 1.3 controller, its monitor and hints, and its REST API.
import type { Command } from 'commander';
import { runController } from '../controller/run.ts';
import { networkOptionsFromTopology } from '../controller/routing/network.ts';
import { startBroker, DEFAULT_BROKER_PORT } from '../bus/broker.ts';
import { loadTopology } from '../topologies/topology.ts';
import { createLogger } from './logger.ts';
import { intOption } from './options.ts';
import { requireTokenInProduction } from '../controller/api/auth.ts';

export interface ControllerFlags {
  readonly ofHost: string;
  readonly ofPort: number;
  readonly apiHost: string;
  readonly apiPort: number;
  readonly echoInterval: number;
  readonly pollInterval: number;
  readonly mqttUrl?: string;
  readonly controllerId: string;
  readonly brokerPort: number;
  readonly eventLog: string;
  readonly redisUrl?: string;
  readonly topology?: string;
  readonly apiToken?: string;
  readonly production: boolean;
}

export function addControllerOptions(cmd: Command): Command {
  return cmd
    .option('--of-host <host>', 'address the OpenFlow listener binds', '0.0.0.0')
    .option('--of-port <port>', 'OpenFlow TCP port', intOption, 6653)
    .option('--api-host <host>', 'address the REST API binds', '127.0.0.1')
    .option('--api-port <port>', 'REST API port', intOption, 8080)
    .option('--echo-interval <ms>', 'echo interval; a switch silent for three intervals is dead', intOption, 5000)
    .option('--poll-interval <ms>', 'port statistics period (100 at the least)', intOption, 1000)
    .option('--mqtt-url <url>', 'hint bus broker (mqtt://user:pass@host:port); default: an embedded broker')
    .option('--controller-id <id>', 'names this controller on the bus: meshflow/v1/controllers/<id>/status', 'controller')
    .option('--broker-port <port>', 'port of the embedded broker, when no --mqtt-url is given', intOption, DEFAULT_BROKER_PORT)
    .option('--event-log <file>', 'JSON-lines file that records every event', 'runs/events.jsonl')
    .option('--redis-url <url>', 'record events in a Redis stream instead (redis://host:port[?key=stream])')
    .option('--topology <name|file>', 'topology file: link capacities and host names')
    .option('--api-token <token>', 'bearer token that POST, PUT, PATCH and DELETE under /api/v1/ must carry; none: the API is open')
    .option('--production', 'refuse to start without --api-token (NODE_ENV=production does the same)', false);
}

export function register(program: Command): void {
  addControllerOptions(program.command('controller').description('run the OpenFlow 1.3 controller, its monitor and its REST API')).action(
    async (o: ControllerFlags) => {
      await startControllerCommand(o);
    },
  );
}

export async function startControllerCommand(o: ControllerFlags): Promise<void> {
  // Before the embedded broker opens a port (runController checks again, for embedded use).
  requireTokenInProduction('the controller', o);
  const logger = createLogger('controller');
  const stops: (() => Promise<void>)[] = [];
  let mqttUrl = o.mqttUrl;
  if (!mqttUrl) {
    const broker = await startBroker({ port: o.brokerPort });
    stops.push(() => broker.stop());
    mqttUrl = broker.url;
    logger.info({ url: broker.url }, 'embedded MQTT broker up');
  }
  const topo = o.topology ? networkOptionsFromTopology(loadTopology(o.topology)) : {};
  const running = await runController({
    ofHost: o.ofHost,
    ofPort: o.ofPort,
    apiHost: o.apiHost,
    apiPort: o.apiPort,
    echoIntervalMs: o.echoInterval,
    pollIntervalMs: o.pollInterval,
    mqttUrl,
    controllerId: o.controllerId,
    eventLog: o.redisUrl ?? o.eventLog,
    ...(o.apiToken === undefined ? {} : { apiToken: o.apiToken }),
    production: o.production,
    ...topo,
    logger,
  });
  stops.unshift(() => running.stop());
  logger.info({ ofPort: running.ofPort, api: running.apiUrl, mqtt: mqttUrl }, 'meshflow controller running (Ctrl-C stops it)');
  const stop = (): void => {
    (async () => {
      for (const s of stops) await s();
    })().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

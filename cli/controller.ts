// meshflow controller: the OpenFlow 1.3 controller, its monitor and hints, and its REST API.
import type { Command } from 'commander';
import { runController } from '../controller/run.ts';
import { networkOptionsFromTopology } from '../controller/routing/network.ts';
import { startBroker, DEFAULT_BROKER_PORT } from '../bus/broker.ts';
import { loadTopology } from '../topologies/topology.ts';
import { createLogger } from './logger.ts';
import { InvalidArgumentError } from 'commander';
import { intOption } from './options.ts';
import { parsePortCapacity, parseRate } from '../controller/topology/capacity.ts';
import { requireTokenInProduction } from '../controller/api/auth.ts';
import { DEFAULT_ADMISSION } from '../controller/admission.ts';
import { DEFAULT_TABLE_MISS } from '../controller/table-miss.ts';
import { EXIT } from './failures.ts';

export interface ControllerFlags {
  readonly ofHost: string;
  readonly ofPort: number;
  readonly apiHost: string;
  readonly apiPort: number;
  readonly echoInterval: number;
  readonly pollInterval: number;
  /** Delay probes' period, ms (absent: the poll interval; 0: no probes). */
  readonly probeInterval?: number;
  readonly mqttUrl?: string;
  readonly controllerId: string;
  readonly brokerPort: number;
  readonly eventLog: string;
  readonly redisUrl?: string;
  readonly topology?: string;
  readonly apiToken?: string;
  readonly production: boolean;
  readonly packetInRate: number;
  readonly packetInBurst: number;
  readonly packetInMeter: number;
  /** bit/s */
  readonly linkCapacity?: number;
  /** "<port>=<rate>" items, checked */
  readonly portCapacity?: readonly string[];
  readonly readShaping: boolean;
}

function rateOption(value: string): number {
  try {
    return parseRate(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function portCapacityOption(value: string, previous: readonly string[] | undefined): string[] {
  try {
    parsePortCapacity(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return [...(previous ?? []), value];
}

/** The per-port capacities the flags give, by "<dpid>:<port>" or port name. */
export function portCapacities(items: readonly string[] | undefined): Map<string, number> | undefined {
  if (items === undefined || items.length === 0) return undefined;
  return new Map(items.map(parsePortCapacity));
}

function probeIntervalOption(value: string): number {
  const n = intOption(value);
  if (n !== 0 && n < 100) throw new InvalidArgumentError(`expected 0 (no probes) or 100 ms or more, got ${n}`);
  return n;
}

/** A flag whose value is a number but not a usable one, with the flag named. */
class FlagError extends Error {
  readonly exitCode = EXIT.usage;
}

/** What a number-shaped flag cannot say alone: a burst that would refuse every packet-in. */
export function checkPacketInFlags(o: Pick<ControllerFlags, 'packetInRate' | 'packetInBurst'>): void {
  if (o.packetInRate > 0 && o.packetInBurst < 1) {
    throw new FlagError(
      `--packet-in-burst must be at least 1 while --packet-in-rate limits packet-ins (rate ${o.packetInRate}/s, burst ${o.packetInBurst}): raise the burst, or set --packet-in-rate 0 to admit every packet-in.`,
    );
  }
}

/** SIGTERM ends the controller within 2 s at any load: the orderly stop gets most of it. */
const STOP_DEADLINE_MS = 1500;

export function addControllerOptions(cmd: Command): Command {
  return cmd
    .option('--of-host <host>', 'address the OpenFlow listener binds', '0.0.0.0')
    .option('--of-port <port>', 'OpenFlow TCP port', intOption, 6653)
    .option('--api-host <host>', 'address the REST API binds', '127.0.0.1')
    .option('--api-port <port>', 'REST API port', intOption, 8080)
    .option('--echo-interval <ms>', 'echo interval; a switch silent for three intervals is dead', intOption, 5000)
    .option('--poll-interval <ms>', 'port statistics period (100 at the least)', intOption, 1000)
    .option('--probe-interval <ms>', 'delay probes: one per link direction per this many ms (100 at the least; default: the poll interval; 0: none); see README "Delay probes"', probeIntervalOption)
    .option('--mqtt-url <url>', 'hint bus broker (mqtt://user:pass@host:port); default: an embedded broker')
    .option('--controller-id <id>', 'names this controller on the bus: meshflow/v1/controllers/<id>/status', 'controller')
    .option('--broker-port <port>', 'port of the embedded broker, when no --mqtt-url is given', intOption, DEFAULT_BROKER_PORT)
    .option('--event-log <file>', 'JSON-lines file that records every event', 'runs/events.jsonl')
    .option('--redis-url <url>', 'record events in a Redis stream instead (redis://host:port[?key=stream])')
    .option('--topology <name|file>', 'topology file: link capacities and host names')
    .option('--link-capacity <rate>', 'capacity of every link no other source knows (8mbit, 1gbit, or bit/s); see README "Link capacity"', rateOption)
    .option('--port-capacity <port=rate...>', 'capacity of the link direction sent out of a port: <dpid>:<port> or the port name (s1-eth2); in a config file, a mapping', portCapacityOption)
    .option('--no-read-shaping', "don't take link capacities from the tc shaping of interfaces named as switch ports")
    .option('--api-token <token>', 'bearer token that POST, PUT, PATCH and DELETE under /api/v1/ must carry; none: the API is open')
    .option('--packet-in-rate <n>', 'packet-ins admitted per second per switch; the excess is dropped and counted (0: no limit)', intOption, DEFAULT_ADMISSION.rate)
    .option('--packet-in-burst <n>', 'packet-ins a switch may send at once above --packet-in-rate', intOption, DEFAULT_ADMISSION.burst)
    .option('--packet-in-meter <n>', "packets per second a switch's table-miss entry lets through to the controller, by an OpenFlow meter where the switch has one (0: no meter)", intOption, DEFAULT_TABLE_MISS.meterRate)
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
  checkPacketInFlags(o);
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
  const perPort = portCapacities(o.portCapacity);
  const running = await runController({
    ofHost: o.ofHost,
    ofPort: o.ofPort,
    apiHost: o.apiHost,
    apiPort: o.apiPort,
    echoIntervalMs: o.echoInterval,
    pollIntervalMs: o.pollInterval,
    ...(o.probeInterval === undefined ? {} : { probeIntervalMs: o.probeInterval }),
    mqttUrl,
    controllerId: o.controllerId,
    eventLog: o.redisUrl ?? o.eventLog,
    ...(o.apiToken === undefined ? {} : { apiToken: o.apiToken }),
    production: o.production,
    admission: { rate: o.packetInRate, burst: o.packetInBurst },
    // One second's worth of burst: a switch that was quiet may send that many at once.
    tableMiss: { meterRate: o.packetInMeter, meterBurst: o.packetInMeter },
    ...topo,
    ...(o.linkCapacity === undefined ? {} : { linkCapacityBps: o.linkCapacity }),
    ...(perPort === undefined ? {} : { portCapacities: perPort }),
    readShaping: o.readShaping,
    logger,
  });
  stops.unshift(() => running.stop());
  logger.info({ ofPort: running.ofPort, api: running.apiUrl, mqtt: mqttUrl }, 'meshflow controller running (Ctrl-C stops it)');
  const stop = (): void => {
    // An orderly stop has this long; a part that hangs (a peer that never closes, a broker that
    // never acknowledges) must not keep a signalled controller alive.
    setTimeout(() => {
      logger.warn({ afterMs: STOP_DEADLINE_MS }, 'stop took too long: exiting anyway');
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
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

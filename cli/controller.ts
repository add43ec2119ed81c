// meshflow controller: the OpenFlow 1.3 controller, its monitor and hints, and its REST API.
import type { Command } from 'commander';
import { runController } from '../controller/run.ts';
import { networkOptionsFromTopology } from '../controller/routing/network.ts';
import { DEFAULT_BROKER_PORT } from '../bus/broker.ts';
import { addBusClientOptions, addEmbeddedBrokerOptions, busConnectOptions, mqttUrlsOption, exposeRefusals, startEmbeddedBus, type BusClientFlags, type EmbeddedBrokerFlags } from './bus-flags.ts';
import { loadTopology } from '../topologies/topology.ts';
import { createLogger } from './logger.ts';
import { InvalidArgumentError } from 'commander';
import { intOption, msOption, pathOrUrlOption, portOption, REDIS_SCHEMES, urlOption } from './options.ts';
import { checkBroker, checkRedis } from './reachable.ts';
import { KEY_DIR_FLAG, KEY_DIR_HELP, signerFor, trustFor } from './keys.ts';
import { loadFileChecked } from './files.ts';
import { parsePortCapacity, parseRate } from '../controller/topology/capacity.ts';
import { requireTokenInProduction } from '../controller/api/auth.ts';
import { DEFAULT_ADMISSION } from '../controller/admission.ts';
import { DEFAULT_TABLE_MISS } from '../controller/table-miss.ts';
import { EXIT } from './failures.ts';
import { normalizeOrigin } from '../controller/api/stream.ts';
import { addOpenFlowGuardOptions, DEFAULT_OF_HOST, openFlowGuard, type OpenFlowGuardFlags } from './openflow-flags.ts';

export interface ControllerFlags extends OpenFlowGuardFlags, BusClientFlags, EmbeddedBrokerFlags {
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
  /** Signing keys: this controller's, and the bridges' it relays (default ~/.meshflow/keys). */
  readonly keyDir?: string;
  readonly brokerPort: number;
  readonly eventLog: string;
  readonly redisUrl?: string;
  readonly topology?: string;
  readonly apiToken?: string;
  readonly allowOrigin?: readonly string[];
  readonly production: boolean;
  readonly packetInRate: number;
  readonly packetInBurst: number;
  readonly packetInMeter: number;
  /** bit/s */
  readonly linkCapacity?: number;
  /** "<port>=<rate>" items, checked */
  readonly portCapacity?: readonly string[];
  readonly readShaping: boolean;
  /** Redis of a group of controllers sharing the switches (OpenFlow roles, a lease per switch). */
  readonly clusterRedis?: string;
  /** Lease lifetime of a switch's master, ms. */
  readonly clusterLease: number;
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

function originOption(value: string, previous: readonly string[] | undefined): string[] {
  const origin = normalizeOrigin(value);
  if (origin === undefined || !/^https?:/.test(origin)) throw new InvalidArgumentError(`expected an origin like https://dash.example:3000, got ${JSON.stringify(value)}`);
  return [...(previous ?? []), origin];
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

const isRedisUrl = (target: string): boolean => REDIS_SCHEMES.some((s) => target.startsWith(`${s}://`));

/** SIGTERM ends the controller within 2 s at any load: the orderly stop gets most of it. */
const STOP_DEADLINE_MS = 1500;

export function addControllerOptions(cmd: Command): Command {
  // The listener's guard (TLS, limits) right after where it binds, in --help as in the code.
  return addOpenFlowGuardOptions(
    cmd
      .option('--of-host <host>', 'address the OpenFlow listener binds (0.0.0.0: every interface; see --of-tls-key)', DEFAULT_OF_HOST)
      .option('--of-port <port>', 'OpenFlow TCP port (0: any free port)', portOption, 6653),
  )
    .option('--api-host <host>', 'address the REST API binds', '127.0.0.1')
    .option('--api-port <port>', 'REST API port (0: any free port)', portOption, 8080)
    .option('--echo-interval <ms>', 'echo interval (100..600000); a switch silent for three intervals is dead', msOption(100, 600_000, 'a switch silent for three intervals is dropped'), 5000)
    .option('--poll-interval <ms>', 'port statistics period (100..3600000)', msOption(100, 3_600_000, 'port statistics period'), 1000)
    .option('--probe-interval <ms>', 'delay probes: one per link direction per this many ms (100 at the least; default: the poll interval; 0: none); see README "Delay probes"', probeIntervalOption)
    .option('--mqtt-url <url>', 'hint bus broker (mqtt://user:pass@host:port; mqtts, ws, wss too); several brokers of one cluster: a comma list, tried in order; default: an embedded broker', mqttUrlsOption)
    .option('--controller-id <id>', 'names this controller on the bus: meshflow/v1/controllers/<id>/status', 'controller')
    .option('--broker-port <port>', 'port of the embedded broker, when no --mqtt-url is given (0: any free port)', portOption, DEFAULT_BROKER_PORT)
    .option('--event-log <file>', 'JSON-lines file that records every event (or a redis:// URL)', pathOrUrlOption(REDIS_SCHEMES), 'runs/events.jsonl')
    .option('--redis-url <url>', 'record events in a Redis stream instead (redis://host:port[?key=stream]); must answer at start', urlOption(REDIS_SCHEMES))
    .option('--topology <name|file>', 'topology file: link capacities and host names')
    .option('--link-capacity <rate>', 'capacity of every link no other source knows (8mbit, 1gbit, or bit/s); see README "Link capacity"', rateOption)
    .option('--port-capacity <port=rate...>', 'capacity of the link direction sent out of a port: <dpid>:<port> or the port name (s1-eth2); in a config file, a mapping', portCapacityOption)
    .option('--no-read-shaping', "don't take link capacities from the tc shaping of interfaces named as switch ports")
    .option('--allow-origin <origin...>', "origins besides the API's own whose pages may open /api/v1/stream (https://dash.example:3000)", originOption)
    .option('--api-token <token>', 'bearer token that POST, PUT, PATCH and DELETE under /api/v1/ must carry; none: the API is open')
    .option('--packet-in-rate <n>', 'packet-ins admitted per second per switch; the excess is dropped and counted (0: no limit)', intOption, DEFAULT_ADMISSION.rate)
    .option('--packet-in-burst <n>', 'packet-ins a switch may send at once above --packet-in-rate', intOption, DEFAULT_ADMISSION.burst)
    .option('--packet-in-meter <n>', "packets per second a switch's table-miss entry lets through to the controller, by an OpenFlow meter where the switch has one (0: no meter)", intOption, DEFAULT_TABLE_MISS.meterRate)
    .option('--cluster-redis <url>', 'share the switches with other controllers: OpenFlow roles, one master per switch by a lease in this Redis (redis://host:port, or redis+sentinel://sentinel:26379/<master>); --controller-id must differ per controller', urlOption(REDIS_SCHEMES))
    .option('--cluster-lease <ms>', "lease of a switch's master (500..60000): a dead master's switches are taken over within about this long", msOption(500, 60_000, "lease of a switch's master"), 2000)
    .option('--production', 'refuse to start without --api-token (NODE_ENV=production does the same)', false)
    .option(KEY_DIR_FLAG, `${KEY_DIR_HELP}; the controller signs its hints with the key named by --controller-id`);
}

export function register(program: Command): void {
  // The hint bus's login and the embedded broker's accounts and TLS come after the controller's own flags.
  const cmd = addControllerOptions(program.command('controller').description('run the OpenFlow 1.3 controller, its monitor and its REST API'));
  addEmbeddedBrokerOptions(addBusClientOptions(cmd, 'the --controller-id')).action(
    async (o: ControllerFlags) => {
      await startControllerCommand(o);
    },
  );
}

export async function startControllerCommand(o: ControllerFlags): Promise<void> {
  // Every value is checked before anything starts: bad values exit 2, servers out of reach exit 3.
  // Before the embedded broker opens a port (runController checks again, for embedded use).
  requireTokenInProduction('the controller', o);
  checkPacketInFlags(o);
  const ofGuard = openFlowGuard(o);
  const topo = o.topology ? networkOptionsFromTopology(loadFileChecked('topology', '--topology', o.topology, loadTopology)) : {};
  const eventTarget = o.redisUrl ?? o.eventLog;
  await Promise.all([
    ...(isRedisUrl(eventTarget) ? [checkRedis(eventTarget, o.redisUrl === undefined ? '--event-log' : '--redis-url')] : []),
    ...(o.mqttUrl === undefined ? [] : [checkBroker(o.mqttUrl, '--mqtt-url', undefined, busConnectOptions(o, o.controllerId))]),
    ...(o.clusterRedis === undefined ? [] : [checkRedis(o.clusterRedis, '--cluster-redis')]),
  ]);
  const logger = createLogger('controller');
  const stops: (() => Promise<void>)[] = [];
  let mqttUrl = o.mqttUrl;
  let bus = busConnectOptions(o, o.controllerId);
  let embedded: Awaited<ReturnType<typeof startEmbeddedBus>> | undefined;
  if (!mqttUrl) {
    const e = await startEmbeddedBus(o, o.brokerPort, o.controllerId, logger);
    stops.push(() => e.broker.stop());
    ({ mqttUrl, connect: bus } = e);
    embedded = e;
  }
  const perPort = portCapacities(o.portCapacity);
  // Every hint is signed with the controller's key (made on first start, where the bridge finds it).
  const signer = await signerFor(o.keyDir, o.controllerId, logger);
  const trust = await trustFor(undefined, o.keyDir, '--key-dir');
  const running = await runController({
    ofHost: o.ofHost,
    ofPort: o.ofPort,
    ...ofGuard,
    apiHost: o.apiHost,
    apiPort: o.apiPort,
    echoIntervalMs: o.echoInterval,
    pollIntervalMs: o.pollInterval,
    ...(o.probeInterval === undefined ? {} : { probeIntervalMs: o.probeInterval }),
    mqttUrl,
    bus,
    controllerId: o.controllerId,
    signer,
    trust,
    eventLog: eventTarget,
    ...(o.apiToken === undefined ? {} : { apiToken: o.apiToken }),
    ...(o.allowOrigin === undefined ? {} : { allowOrigins: o.allowOrigin }),
    production: o.production,
    admission: { rate: o.packetInRate, burst: o.packetInBurst },
    // One second's worth of burst: a switch that was quiet may send that many at once.
    tableMiss: { meterRate: o.packetInMeter, meterBurst: o.packetInMeter },
    ...topo,
    ...(o.linkCapacity === undefined ? {} : { linkCapacityBps: o.linkCapacity }),
    ...(perPort === undefined ? {} : { portCapacities: perPort }),
    readShaping: o.readShaping,
    ...(o.clusterRedis === undefined ? {} : { cluster: { redisUrl: o.clusterRedis, leaseMs: o.clusterLease } }),
    logger,
  });
  stops.unshift(() => running.stop());
  if (embedded) exposeRefusals(running.metrics.registry, embedded.broker.refusals);
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

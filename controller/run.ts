// Starts the controller process: the OpenFlow listener, discovery and forwarding, the monitor, the
// hints it announces (bus, stream, event log) and the northbound API, all stopped together.
import type { FastifyInstance } from 'fastify';
import type { IClientPublishOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Controller } from './controller.ts';
import { startApi } from './api/server.ts';
import { StreamHub } from './api/stream.ts';
import { ControllerMetrics } from './api/metrics.ts';
import { Network, type NetworkOptions } from './routing/network.ts';
import { Monitor } from './monitor/monitor.ts';
import type { LevelSettings } from './monitor/levels.ts';
import { Announcer } from './announcer.ts';
import { IntentService } from './intents/service.ts';
import { pathChangeDetail } from './intents/view.ts';
import type { IntentSettings } from './intents/types.ts';
import { connectBus } from '../bus/client.ts';
import { HintPublisher, type PublishClient } from '../bus/publisher.ts';
import { subscribeHints } from '../bus/subscriber.ts';
import { patterns } from '../bus/topics.ts';
import { openEventLog, type EventLog } from '../bus/eventlog/index.ts';
import { requireTokenInProduction } from './api/auth.ts';
import { PacketInAdmission, type AdmissionSettings } from './admission.ts';
import { DEFAULT_TABLE_MISS, tableMiss, type TableMissSettings } from './table-miss.ts';

export interface RunOptions {
  readonly ofHost?: string;
  readonly ofPort?: number;
  readonly apiHost?: string;
  readonly apiPort?: number;
  readonly echoIntervalMs?: number;
  readonly logger?: Logger;
  /** LLDP period; a link unheard for 3.5 periods goes down (default 1000 ms). */
  readonly lldpIntervalMs?: number;
  /** Link capacities in bit/s by sending port "<dpid>:<port>" (e.g. from a topology file). */
  readonly capacities?: NetworkOptions['capacities'];
  /** Capacity of every link no other source knows (bit/s; --link-capacity). */
  readonly linkCapacityBps?: number;
  /** Capacities by sending port, "<dpid>:<port>" or the port's name (config file; capacity.ts has the precedence). */
  readonly portCapacities?: ReadonlyMap<string, number>;
  /** Read the shaping rate (tc) of interfaces named as switch ports, as link capacities (default true). */
  readonly readShaping?: boolean;
  /** Spread flows over equal-cost paths (default true); false: one path per host pair. */
  readonly ecmp?: boolean;
  /** Host names by MAC (e.g. from a topology file). */
  readonly hostNames?: NetworkOptions['hostNames'];
  /** Port statistics period (default 1000 ms, 100 at the least). */
  readonly pollIntervalMs?: number;
  /** Delay probes: one per link direction per this many ms (default: the poll interval; 0: none). */
  readonly probeIntervalMs?: number;
  /** Congestion thresholds, sample counts and smoothing. */
  readonly levels?: Partial<LevelSettings>;
  /** Broker for the hint bus; without one, hints go to the stream and the event log only. */
  readonly mqttUrl?: string;
  /** Names this controller on the bus (meshflow/v1/controllers/<id>/status); default "controller". */
  readonly controllerId?: string;
  /** Where events are recorded: a JSON-lines file path or a redis:// URL (Redis Streams). */
  readonly eventLog?: string;
  /** Bearer token for mutating /api/v1/ requests; none leaves the API open. */
  readonly apiToken?: string;
  /** Refuse to start without apiToken (also when NODE_ENV=production). */
  readonly production?: boolean;
  /** When intents move: margin, minimum interval, rule priority. */
  readonly intents?: Partial<IntentSettings>;
  /** Packet-ins admitted per switch: sustained rate per second (0: every one) and burst (default 2,000/s, 4,000). */
  readonly admission?: Partial<AdmissionSettings>;
  /** The meter on each switch's table-miss entry, where the switch has meters (default 1,000/s; rate 0: none). */
  readonly tableMiss?: Partial<TableMissSettings>;
}

export interface RunningController {
  readonly controller: Controller;
  readonly api: FastifyInstance;
  /** Publish here what clients of /api/v1/stream should see (link states, events, weights, lab progress). */
  readonly hub: StreamHub;
  readonly metrics: ControllerMetrics;
  /** Link and host discovery, and forwarding between hosts. */
  readonly network: Network;
  readonly monitor: Monitor;
  /** Intents: path policies and priority marks per class of traffic, kept true as the network changes. */
  readonly intents: IntentService;
  /** The per-switch token buckets that packet-ins pass before they are decoded. */
  readonly admission: PacketInAdmission;
  readonly publisher: HintPublisher;
  readonly ofPort: number;
  readonly apiUrl: string;
  stop(): Promise<void>;
}

/** Without a broker the publisher still stamps and validates; the hints just go nowhere on MQTT. */
const noBus: PublishClient = { publishAsync: async () => undefined };

export async function runController(opts: RunOptions = {}): Promise<RunningController> {
  // Before anything opens a port: a production controller never runs with a writable, open API.
  requireTokenInProduction('the controller', opts);
  const cleanups: (() => unknown)[] = [];
  let pause: (() => void) | undefined;
  const stopAll = async (): Promise<void> => {
    // Switches are no longer read first, so that a packet-in storm stops costing CPU while the
    // rest winds down; their connections are dropped last (controller.close).
    pause?.();
    for (const f of cleanups.splice(0).reverse()) await f();
  };
  try {
    const log = opts.logger;
    const admission = new PacketInAdmission(opts.admission);
    const missSettings: TableMissSettings = { ...DEFAULT_TABLE_MISS, ...opts.tableMiss };
    const controller = new Controller({
      host: opts.ofHost,
      port: opts.ofPort,
      echoIntervalMs: opts.echoIntervalMs,
      logger: log,
      admission,
      tableMiss: (meters) => tableMiss(meters, missSettings),
    });
    pause = () => controller.pause();
    cleanups.push(() => controller.close());
    let bus: MqttClient | undefined;
    // The publisher exists before the connection so that the last will is stamped in its sequence.
    const publisher = new HintPublisher({ publishAsync: (topic: string, message: string | Buffer, options?: IClientPublishOptions) => (bus ?? noBus).publishAsync(topic, message, options ?? {}) }, { source: `controller-${process.pid}` });
    const controllerId = opts.controllerId ?? 'controller';
    if (opts.mqttUrl) {
      const will = publisher.stamp({ kind: 'controller_status', controllerId, state: 'offline' });
      bus = await connectBus(opts.mqttUrl, { clientId: `meshflow-controller-${process.pid}`, will });
      const client = bus;
      cleanups.push(async () => {
        // An orderly stop says so itself; the will speaks only for a controller that died.
        await publisher.publish({ kind: 'controller_status', controllerId, state: 'offline' }).catch(() => undefined);
        await client.endAsync();
      });
    }
    let eventLog: EventLog | undefined;
    if (opts.eventLog) {
      eventLog = await openEventLog(opts.eventLog);
      const el = eventLog;
      cleanups.push(() => el.close());
    }
    const network = new Network(controller, {
      lldpIntervalMs: opts.lldpIntervalMs,
      capacities: opts.capacities,
      capacity: {
        ...(opts.linkCapacityBps === undefined ? {} : { defaultBps: opts.linkCapacityBps }),
        ...(opts.portCapacities === undefined ? {} : { perPort: opts.portCapacities }),
      },
      shaping: opts.readShaping === false ? false : { logger: log },
      ecmp: opts.ecmp,
      hostNames: opts.hostNames,
      logger: log,
    });
    const monitor = new Monitor(controller, network.discovery, {
      pollIntervalMs: opts.pollIntervalMs,
      levels: opts.levels,
      // Delay probes run by default, one per link direction per poll interval.
      probeIntervalMs: opts.probeIntervalMs ?? opts.pollIntervalMs ?? 1000,
      logger: log,
    });
    const hub = new StreamHub();
    const metrics = new ControllerMetrics(controller, { hub, admission });
    // A gone switch's bucket and series go with it (a reconnect starts with a full bucket).
    const forget = (s: { readonly dpid: string }): void => admission.forget(s.dpid);
    controller.on('switch_down', forget);
    cleanups.push(() => controller.off('switch_down', forget));
    cleanups.push(() => metrics.close());
    if (bus) {
      // What the mesh says on the bus (sidecar weights and status) reaches stream clients too.
      const relay = await subscribeHints(bus, [patterns.weights, patterns.status], (hint) => hub.publish(hint));
      cleanups.push(() => relay.close());
    }
    const announcer = new Announcer(controller, network.discovery, monitor, { publisher, hub, metrics, eventLog, logger: log });
    const intents = new IntentService(controller, network, monitor, {
      settings: opts.intents,
      logger: log,
      onPathChange: (c) => announcer.pathChange(pathChangeDetail(c)),
    });
    // All of them listen before the OpenFlow port opens, so no switch can join unseen.
    network.start();
    cleanups.push(() => network.stop());
    intents.start();
    cleanups.push(() => intents.stop());
    announcer.start();
    cleanups.push(() => announcer.stop());
    monitor.start();
    cleanups.push(() => monitor.stop());
    const { port: ofPort } = await controller.listen();
    const api = await startApi(controller, { host: opts.apiHost, port: opts.apiPort, hub, metrics, network, monitor, events: eventLog, intents, apiToken: opts.apiToken, errorLog: log });
    cleanups.push(() => api.close());
    const addr = api.server.address();
    const apiPort = addr !== null && typeof addr === 'object' ? addr.port : 0;
    const apiUrl = `http://${opts.apiHost ?? '127.0.0.1'}:${apiPort}`;
    if (bus) await publisher.publish({ kind: 'controller_status', controllerId, state: 'online', apiUrl });
    return {
      controller,
      api,
      hub,
      metrics,
      network,
      monitor,
      intents,
      admission,
      publisher,
      ofPort,
      apiUrl,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

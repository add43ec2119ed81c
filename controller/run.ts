// Starts the controller process: the OpenFlow listener, discovery and forwarding, the monitor, the
// hints it announces (bus, stream, event log) and the northbound API, all stopped together.
import type { FastifyInstance } from 'fastify';
import type { IClientPublishOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Controller } from './controller.ts';
import type { OpenFlowTlsFiles } from './listener-tls.ts';
import type { ListenerLimits } from './listener-limits.ts';
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
import { PortQueues } from './qos/port-queues.ts';
import type { QueueSettings } from './qos/tc-commands.ts';
import { connectBus, type BusConnectOptions } from '../bus/client.ts';
import { HintPublisher, type PublishClient } from '../bus/publisher.ts';
import { subscribeHints } from '../bus/subscriber.ts';
import { patterns } from '../bus/topics.ts';
import { openEventLog, type EventLog } from '../bus/eventlog/index.ts';
import type { HintSigner, TrustStore } from '../bus/signing.ts';
import { RECOVERY_BACKOFF } from '../bus/watch.ts';
import { requireTokenInProduction } from './api/auth.ts';
import { PacketInAdmission, type AdmissionSettings } from './admission.ts';
import { DEFAULT_TABLE_MISS, tableMiss, type TableMissSettings } from './table-miss.ts';
import { openCluster, type ClusterOptions, type RunningCluster } from './cluster/index.ts';

export interface RunOptions {
  /** Address the OpenFlow listener binds (default 127.0.0.1). */
  readonly ofHost?: string;
  readonly ofPort?: number;
  /** OpenFlow over TLS only, with switch certificates required (--of-tls-key, --of-tls-cert, --of-tls-ca). */
  readonly ofTls?: OpenFlowTlsFiles;
  /** Connection and handshake limits of the OpenFlow listener. */
  readonly ofLimits?: Partial<ListenerLimits>;
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
  /** How to connect to it: credentials, CA file (see bus/client.ts). */
  readonly bus?: BusConnectOptions;
  /** Names this controller on the bus (meshflow/v1/controllers/<id>/status); default "controller". */
  readonly controllerId?: string;
  /** Signs every hint this controller publishes (its key id should be the controller id). */
  readonly signer?: HintSigner;
  /** Bridge keys whose weights the controller relays to its stream; without it, nothing is verified. */
  readonly trust?: TrustStore;
  /** Where events are recorded: a JSON-lines file path or a redis:// URL (Redis Streams). */
  readonly eventLog?: string;
  /** Bearer token for mutating /api/v1/ requests; none leaves the API open. */
  readonly apiToken?: string;
  /** Origins besides the API's own whose pages may open /api/v1/stream. */
  readonly allowOrigins?: readonly string[];
  /** Refuse to start without apiToken (also when NODE_ENV=production). */
  readonly production?: boolean;
  /** When intents move: margin, minimum interval, rule priority. */
  readonly intents?: Partial<IntentSettings>;
  /** Priority queues (tc) on the ports high-priority intents leave by, on interfaces named as the ports (default on; false: none). */
  readonly portQueues?: Partial<QueueSettings> | false;
  /** Packet-ins admitted per switch: sustained rate per second (0: every one) and burst (default 2,000/s, 4,000). */
  readonly admission?: Partial<AdmissionSettings>;
  /** The meter on each switch's table-miss entry, where the switch has meters (default 1,000/s; rate 0: none). */
  readonly tableMiss?: Partial<TableMissSettings>;
  /** Share the switches with other controllers by OpenFlow roles and Redis leases (cluster/); without it, one controller. */
  readonly cluster?: Omit<ClusterOptions, 'controllerId' | 'logger'>;
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
  /** The priority queues high-priority intents put on their ports (qos/port-queues.ts); absent when off. */
  readonly queues?: PortQueues;
  /** The per-switch token buckets that packet-ins pass before they are decoded. */
  readonly admission: PacketInAdmission;
  readonly publisher: HintPublisher;
  readonly ofPort: number;
  readonly apiUrl: string;
  /** The group's roles and leases, when running as one of a group. */
  readonly cluster?: RunningCluster;
  stop(): Promise<void>;
}

/** Bounds of each shutdown step, ms; their sum stays well under the 2 s a SIGTERM may take. */
const STOP_STEP_MS = { accepting: 300, parts: 400, flush: 600 } as const;

/** Waits for `p`, but no longer than `ms`; a step that fails or hangs does not stop the next one. */
async function bounded(step: (() => unknown) | undefined, ms: number): Promise<void> {
  let p: unknown;
  try {
    p = step?.();
  } catch {
    return;
  }
  if (!(p instanceof Promise)) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Without a broker the publisher still stamps and validates; the hints just go nowhere on MQTT. */
const noBus: PublishClient = { publishAsync: async () => undefined };

export async function runController(opts: RunOptions = {}): Promise<RunningController> {
  // Before anything opens a port: a production controller never runs with a writable, open API.
  requireTokenInProduction('the controller', opts);
  // Shutdown order: stop accepting and drop the switches first, so they fail
  // over to another controller at once; then unwire the parts; then flush to the bus and the event
  // log. Each step has a bounded wait, so SIGTERM ends the process within 2 s whatever is down
  // (a broker that never acknowledges, a paused Redis).
  const cleanups: (() => unknown)[] = [];
  const flushes: (() => Promise<unknown>)[] = [];
  let pause: (() => void) | undefined;
  let closeSwitches: (() => Promise<unknown>) | undefined;
  let closeApi: (() => Promise<unknown>) | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      pause?.();
      await Promise.all([bounded(closeSwitches, STOP_STEP_MS.accepting), bounded(closeApi, STOP_STEP_MS.accepting)]);
      // The parts share one budget: once it is spent, the rest are still called but not waited for.
      const partsEnd = Date.now() + STOP_STEP_MS.parts;
      for (const f of cleanups.splice(0).reverse()) await bounded(f, Math.max(0, partsEnd - Date.now()));
      await Promise.all(flushes.splice(0).map((f) => bounded(f, STOP_STEP_MS.flush)));
    })());
  try {
    const log = opts.logger;
    const admission = new PacketInAdmission(opts.admission);
    const missSettings: TableMissSettings = { ...DEFAULT_TABLE_MISS, ...opts.tableMiss };
    const cluster = opts.cluster ? await openCluster({ ...opts.cluster, controllerId: opts.controllerId ?? 'controller', ...(log ? { logger: log } : {}) }) : undefined;
    if (cluster) cleanups.push(() => cluster.stop());
    const controller = new Controller({
      host: opts.ofHost,
      port: opts.ofPort,
      ...(opts.ofTls === undefined ? {} : { tls: opts.ofTls }),
      ...(opts.ofLimits === undefined ? {} : { limits: opts.ofLimits }),
      echoIntervalMs: opts.echoIntervalMs,
      logger: log,
      admission,
      tableMiss: cluster ? cluster.handshakeTableMiss : (meters) => tableMiss(meters, missSettings),
    });
    pause = () => controller.pause();
    closeSwitches = () => controller.close();
    let bus: MqttClient | undefined;
    // The publisher exists before the connection so that the last will is stamped in its sequence.
    const publisher = new HintPublisher({ publishAsync: (topic: string, message: string | Buffer, options?: IClientPublishOptions) => (cluster ? cluster.voice.wrap(bus ?? noBus) : (bus ?? noBus)).publishAsync(topic, message, options ?? {}) }, { source: `controller-${process.pid}`, ...(opts.signer ? { signer: opts.signer } : {}), ...(cluster ? { origin: () => cluster.voice.origin() } : {}) });
    const controllerId = opts.controllerId ?? 'controller';
    if (opts.mqttUrl) {
      const will = publisher.stamp({ kind: 'controller_status', controllerId, state: 'offline' });
      bus = await connectBus(opts.mqttUrl, { backoff: RECOVERY_BACKOFF, ...opts.bus, clientId: `meshflow-controller-${process.pid}`, will });
      const client = bus;
      flushes.push(async () => {
        // An orderly stop says so itself; the will speaks only for a controller that died. With the
        // broker away the acknowledgement never comes: the step's bound ends the wait, and end(true)
        // drops what is still queued.
        await bounded(() => publisher.publish({ kind: 'controller_status', controllerId, state: 'offline' }), STOP_STEP_MS.flush - 200);
        await bounded(() => client.endAsync(), 150);
        if (!client.disconnected) client.end(true);
      });
    }
    let eventLog: EventLog | undefined;
    if (opts.eventLog) {
      eventLog = await openEventLog(opts.eventLog);
      const el = eventLog;
      flushes.push(() => el.close());
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
      ...(cluster ? { lldpInstance: cluster.lldpInstance } : {}),
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
    const forget = (dpid: string): void => admission.forget(dpid);
    controller.on('dpid_released', forget);
    cleanups.push(() => controller.off('dpid_released', forget));
    cleanups.push(() => metrics.close());
    const announcer = new Announcer(controller, network.discovery, monitor, { publisher, hub, metrics, eventLog, logger: log });
    if (bus) {
      // What the mesh says on the bus (sidecar weights and status) reaches stream clients too;
      // weights only when signed by a trusted bridge (sidecars have no keys: their status comes as is).
      const relay = await subscribeHints(bus, [patterns.weights, patterns.status], (hint) => hub.publish(hint), {
        ...(opts.trust ? { trust: opts.trust, unsignedKinds: ['sidecar_status'] } : {}),
        onInvalid: (e, topic) => announcer.rejections.add(e, topic),
      });
      cleanups.push(() => relay.close());
    }
    const queues = opts.portQueues === false ? undefined : new PortQueues((dpid, port) => controller.switches.get(dpid)?.ports.get(port)?.name, { settings: opts.portQueues ?? {}, logger: log });
    if (queues) cleanups.push(() => queues.stop());
    const intents = new IntentService(controller, network, monitor, {
      settings: opts.intents,
      logger: log,
      onPathChange: (c) => announcer.pathChange(pathChangeDetail(c)),
      ...(queues || cluster
        ? {
            onRecords: (records) => {
              queues?.update(records.values());
              cluster?.intents.write(records);
            },
          }
        : {}),
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
    if (cluster) {
      await cluster.start(controller, network, (meters) => tableMiss(meters, missSettings), intents);
      metrics.watchCluster(cluster.roles);
    }
    const { port: ofPort } = await controller.listen();
    const api = await startApi(controller, { host: opts.apiHost, port: opts.apiPort, hub, metrics, network, monitor, events: eventLog, intents, apiToken: opts.apiToken, errorLog: log, ...(cluster ? { roles: cluster.roles } : {}), ...(opts.allowOrigins === undefined ? {} : { allowOrigins: opts.allowOrigins }) });
    closeApi = () => api.close();
    const addr = api.server.address();
    const apiPort = addr !== null && typeof addr === 'object' ? addr.port : 0;
    const apiUrl = `http://${opts.apiHost ?? '127.0.0.1'}:${apiPort}`;
    // Online now, and again after every bus outage (the announcer keeps the retained status true).
    if (bus) await announcer.attachBus(bus, { controllerId, apiUrl });
    return {
      controller,
      api,
      hub,
      metrics,
      network,
      monitor,
      intents,
      ...(queues ? { queues } : {}),
      admission,
      publisher,
      ofPort,
      apiUrl,
      ...(cluster ? { cluster } : {}),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

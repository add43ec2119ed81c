// The built-in sidecar: the proxy, an admin port (/metrics, /healthz, /weights), and the
// bus: its own weights topic in, its status out (online, with a last will saying offline).
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { connectBus, HintPublisher, HintRejections, subscribeHints, systemClock, topics, type Clock, type Hint, type HintSubscription, type TrustStore, type BusConnectOptions } from '../hints.ts';
import type { SidecarConfig } from './config.ts';
import { SidecarMetrics } from './metrics.ts';
import { SidecarProxy } from './proxy.ts';
import type { SchedulerSettings } from './scheduler.ts';
import { ReplicaPaths } from './paths.ts';
import { HopTracer } from './spans.ts';
import { WeightStore } from './weights.ts';

export interface SidecarOptions {
  readonly config: SidecarConfig;
  /** Overrides config.mqttUrl; with neither, the sidecar runs on even weights alone. */
  readonly mqttUrl?: string;
  /** How to connect to it: credentials, CA file (see bus/client.ts). */
  readonly bus?: BusConnectOptions;
  readonly clock?: Clock;
  readonly log?: Logger;
  /**
   * The bridge keys whose weights this sidecar takes; unsigned, forged or otherwise signed weights
   * are refused and counted. Without it weights are not verified (`meshflow sidecar` always gives one).
   */
  readonly trust?: TrustStore;
}

export interface SidecarAddresses {
  readonly proxyPort: number;
  readonly adminPort: number;
}

export class BuiltinSidecar {
  readonly metrics = new SidecarMetrics();
  readonly weights: WeightStore;
  readonly proxy: SidecarProxy;
  /** The bridge's word on each replica's path: room (to the scheduler) and links with levels (to the spans). */
  readonly paths: ReplicaPaths;
  private readonly tracer: HopTracer | undefined;
  private readonly clock: Clock;
  private proxyServer: NetServer | undefined;
  private adminServer: Server | undefined;
  private client: MqttClient | undefined;
  private sub: HintSubscription | undefined;
  private publisher: HintPublisher | undefined;
  private stopping = false;

  constructor(private readonly opts: SidecarOptions) {
    this.clock = opts.clock ?? systemClock;
    this.weights = new WeightStore(this.clock);
    const c = opts.config;
    this.tracer = c.tracing ? new HopTracer(c.id, c.tracing) : undefined;
    this.proxy = new SidecarProxy({
      services: c.services,
      weights: this.weights,
      metrics: this.metrics,
      ...(c.ingress?.rules ? { rules: c.ingress.rules } : {}),
      ...(c.ingress?.defaultClass ? { defaultClass: c.ingress.defaultClass } : {}),
      ...(c.connectTimeoutMs ? { connectTimeoutMs: c.connectTimeoutMs } : {}),
      ...(c.scheduling ? { scheduling: schedulingOf(c.scheduling), sourceAddresses: sourceAddressesOf(c.scheduling) } : {}),
      ...(this.tracer ? { tracer: this.tracer } : {}),
    });
    this.paths = new ReplicaPaths(c.services, this.proxy.scheduler, this.clock);
    if (this.tracer) this.tracer.paths = this.paths;
  }

  get id(): string {
    return this.opts.config.id;
  }

  async start(): Promise<SidecarAddresses> {
    const c = this.opts.config;
    this.proxyServer = createNetServer({ noDelay: true }, this.proxy.accept);
    this.adminServer = createServer((req, res) => void this.admin(req.url ?? '/', res));
    const proxyPort = await listen(this.proxyServer, c.listen.port, c.listen.host ?? '127.0.0.1');
    const adminPort = await listen(this.adminServer, c.admin.port, c.admin.host ?? '127.0.0.1');
    const url = this.opts.mqttUrl ?? c.mqttUrl;
    if (url) await this.connect(url);
    return { proxyPort, adminPort };
  }

  private async connect(url: string): Promise<void> {
    // The sidecar serves from the first moment, broker or not: it must not wait for it.
    const probe = new HintPublisher({ publishAsync: async () => undefined }, { source: `sidecar:${this.id}`, clock: this.clock });
    const will = probe.stamp(this.statusBody('offline'));
    const client = await connectBus(url, { ...this.opts.bus, clientId: `meshflow-sidecar-${this.id}`, will, waitForConnect: false });
    this.client = client;
    this.publisher = new HintPublisher(client, { source: `sidecar:${this.id}`, clock: this.clock, startSeq: probe.seq });
    // Announce on every (re)connect: the broker may have published our will meanwhile.
    client.on('connect', () => {
      this.publisher?.publish(this.statusBody('online')).catch((err: unknown) => this.opts.log?.warn({ err }, 'sidecar: status not published'));
    });
    // Refused connects repeat on every reconnect attempt while the broker is away: log the
    // transitions loudly and the individual errors quietly.
    let up = false;
    client.on('connect', () => {
      up = true;
      this.opts.log?.info({ url }, 'sidecar: bus connected');
    });
    client.on('close', () => {
      if (up && !this.stopping) this.opts.log?.warn({ url }, 'sidecar: bus connection lost; weights stay in force until their ttl');
      up = false;
    });
    client.on('error', (err) => this.opts.log?.debug({ err }, 'sidecar: mqtt error'));
    const refused = new HintRejections({ name: 'sidecar', ...(this.opts.log ? { log: this.opts.log } : {}), clock: this.clock });
    subscribeHints(client, [topics.weights(this.id)], (hint) => this.onHint(hint), {
      ...(this.opts.trust ? { trust: this.opts.trust } : {}),
      onInvalid: (e, topic) => {
        this.metrics.hintsRefused.inc({ code: e.code });
        refused.add(e, topic);
      },
    })
      .then((sub) => {
        this.sub = sub;
      })
      .catch((err: unknown) => this.opts.log?.warn({ err }, 'sidecar: subscribe failed'));
  }

  private statusBody(state: 'online' | 'offline') {
    return {
      kind: 'sidecar_status' as const,
      sidecarId: this.id,
      state,
      ...(this.opts.config.host ? { host: this.opts.config.host } : {}),
      services: Object.keys(this.opts.config.services),
    };
  }

  /** Takes a weights hint (from the bus, or directly in tests). */
  onHint(hint: Hint): void {
    if (hint.kind !== 'weights' || hint.sidecarId !== this.id) return;
    if (!this.weights.update(hint)) return;
    this.paths.update(hint);
    this.opts.log?.debug({ services: hint.services, replicas: hint.replicas }, 'sidecar: weights updated');
  }

  private async admin(url: string, res: import('node:http').ServerResponse): Promise<void> {
    const path = url.split('?')[0];
    if (path === '/metrics') {
      this.metrics.weightsFresh.set(this.weights.fresh() ? 1 : 0);
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(await this.metrics.registry.metrics());
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, mqtt: this.client?.connected ?? false }));
    } else if (path === '/weights') {
      const body = Object.fromEntries(Object.keys(this.opts.config.services).map((s) => [s, this.proxy.weightsFor(s)]));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ fresh: this.weights.fresh(), services: body, withoutRoom: this.paths.withoutRoom() }));
    } else {
      res.writeHead(404).end();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.client) {
      // A clean shutdown says offline itself: the broker sends the will only on a lost connection.
      if (this.client.connected) await this.publisher?.publish(this.statusBody('offline')).catch(() => undefined);
      await this.sub?.close();
      await this.client.endAsync(true);
    }
    this.paths.close();
    // Closes the callers' connections too, so the listener's close does not wait for them.
    this.proxy.close();
    await Promise.all([this.proxyServer ? closeNet(this.proxyServer) : undefined, this.adminServer ? close(this.adminServer) : undefined]);
    // After the servers: the last hops' spans end when their connections close.
    await this.tracer?.close();
  }
}

function schedulingOf(s: NonNullable<SidecarConfig['scheduling']>): Partial<SchedulerSettings> {
  return {
    classes: s.classes.map((c) => c.name),
    ...(s.concurrencyPerReplica !== undefined ? { concurrencyPerReplica: s.concurrencyPerReplica } : {}),
    ...(s.queueLimit !== undefined ? { queueLimit: s.queueLimit } : {}),
    ...(s.queueTimeoutMs !== undefined ? { queueTimeoutMs: s.queueTimeoutMs } : {}),
  };
}

function sourceAddressesOf(s: NonNullable<SidecarConfig['scheduling']>): Record<string, string> {
  return Object.fromEntries(s.classes.flatMap((c) => (c.sourceAddress ? [[c.name, c.sourceAddress]] : [])));
}

async function listen(server: Server | NetServer, port: number, host: string): Promise<number> {
  server.listen(port, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function closeNet(server: NetServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

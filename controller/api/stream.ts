// The live stream at /api/v1/stream: one WebSocket endpoint that fans every published message out to
// every connected client as one JSON text frame. The controller, the monitor and the bus relay publish
// into one StreamHub; the dashboard and outside tools listen. A new client first gets a `hello` frame
// with a snapshot (switches, links, ... from registered providers), then every message published after.
import type { FastifyInstance } from 'fastify';
// Importing the plugin's types also brings its route option `wsHandler` into fastify's types.
import type { WebSocket } from '@fastify/websocket';
import type { Controller, ControllerEvents } from '../controller.ts';
import type { SwitchSession } from '../session.ts';
import { OFPPR_ADD, OFPPR_DELETE } from 'openflow-ts';
import { portView, switchView } from './switches.ts';
import { linkView } from './links.ts';
import { hostView } from './hosts.ts';
import type { Network } from '../routing/network.ts';
import type { Host } from '../topology/types.ts';

/** Anything with a `kind`; hints from the bus (link_state, event, weights, cost_row) pass through as they are. */
export interface StreamMessage {
  readonly kind: string;
  readonly [field: string]: unknown;
}

export interface HelloMessage extends StreamMessage {
  readonly kind: 'hello';
  readonly ts: number;
  readonly protocol: 1;
  /** provider name -> what it returned at connect time */
  readonly snapshot: Readonly<Record<string, unknown>>;
  /** providers that failed, so a client knows a part is missing rather than empty */
  readonly snapshotErrors: readonly string[];
}

export type SnapshotProvider = () => unknown;

export interface StreamHubOptions {
  /**
   * A client whose unsent bytes would pass this bound is dropped: it cannot keep up, and queueing for it
   * would grow memory without limit. It reconnects and starts again from a fresh hello snapshot.
   */
  readonly maxBufferedBytes?: number;
}

export interface StreamStats {
  readonly clients: number;
  readonly published: number;
  readonly dropped: number;
  readonly accepted: number;
  /** Upgrades refused for their Origin. */
  readonly refusedOrigin: number;
}

interface Client {
  readonly socket: WebSocket;
  /** false until the hello frame went out: messages published meanwhile wait here, in order */
  ready: boolean;
  readonly backlog: string[];
  backlogBytes: number;
}

const OPEN = 1; // WebSocket.OPEN, without importing ws at runtime for one constant

export class StreamHub {
  private readonly clients = new Set<Client>();
  private readonly providers = new Map<string, SnapshotProvider>();
  private readonly maxBufferedBytes: number;
  private counts = { published: 0, dropped: 0, accepted: 0, refusedOrigin: 0 };

  constructor(opts: StreamHubOptions = {}) {
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 1 << 20;
  }

  /** Adds (or replaces) a part of the hello snapshot; returns a function that removes it again. */
  provide(name: string, provider: SnapshotProvider): () => void {
    this.providers.set(name, provider);
    return () => {
      if (this.providers.get(name) === provider) this.providers.delete(name);
    };
  }

  /** Sends one message to every client. A message without `ts` is stamped now, so clients can order it. */
  publish(message: StreamMessage): void {
    this.counts.published++;
    if (this.clients.size === 0) return;
    const frame = JSON.stringify(typeof message.ts === 'number' ? message : { ...message, ts: Date.now() });
    for (const c of this.clients) this.deliver(c, frame);
  }

  /** Counts an upgrade refused for its Origin (/metrics). */
  refusedOrigin(): void {
    this.counts.refusedOrigin++;
  }

  get stats(): StreamStats {
    return { clients: this.clients.size, ...this.counts };
  }

  /** Takes over an accepted WebSocket: hello first, then the live messages. */
  attach(socket: WebSocket): void {
    const client: Client = { socket, ready: false, backlog: [], backlogBytes: 0 };
    this.clients.add(client);
    this.counts.accepted++;
    const forget = (): void => {
      this.clients.delete(client);
    };
    socket.on('close', forget);
    socket.on('error', forget);
    // Clients have nothing to say on this stream; what they send is ignored rather than an error.
    void this.hello().then((hello) => {
      if (!this.clients.has(client)) return;
      this.send(client, JSON.stringify(hello));
      client.ready = true;
      for (const frame of client.backlog.splice(0)) this.send(client, frame);
      client.backlogBytes = 0;
    });
  }

  /** Closes every client (server shutdown): they see 1001 "going away" and may reconnect elsewhere. */
  closeAll(): void {
    for (const c of this.clients) c.socket.close(1001, 'server shutting down');
    this.clients.clear();
  }

  private async hello(): Promise<HelloMessage> {
    const snapshot: Record<string, unknown> = {};
    const snapshotErrors: string[] = [];
    await Promise.all(
      [...this.providers].map(async ([name, provider]) => {
        try {
          snapshot[name] = await provider();
        } catch {
          snapshotErrors.push(name);
        }
      }),
    );
    return { kind: 'hello', ts: Date.now(), protocol: 1, snapshot, snapshotErrors };
  }

  private deliver(client: Client, frame: string): void {
    if (client.ready) {
      this.send(client, frame);
      return;
    }
    client.backlog.push(frame);
    client.backlogBytes += Buffer.byteLength(frame);
    if (client.backlogBytes > this.maxBufferedBytes) this.drop(client);
  }

  private send(client: Client, frame: string): void {
    if (client.socket.readyState !== OPEN) return;
    if (client.socket.bufferedAmount + Buffer.byteLength(frame) > this.maxBufferedBytes) {
      this.drop(client);
      return;
    }
    client.socket.send(frame);
  }

  private drop(client: Client): void {
    if (!this.clients.delete(client)) return;
    this.counts.dropped++;
    // terminate, not close: a close frame would queue behind the very bytes the client is not reading.
    client.socket.terminate();
  }
}

export const STREAM_PATH = '/api/v1/stream';

export interface StreamRouteOptions {
  /** Origins besides the API's own whose pages may open the stream ("https://dash.example:3000"; --allow-origin). */
  readonly allowOrigins?: readonly string[];
}

/** "scheme://host[:port]" as URL.origin writes it, or undefined for what is not an origin. */
export function normalizeOrigin(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    return u.origin === 'null' ? undefined : u.origin;
  } catch {
    return undefined;
  }
}

/**
 * Whether a WebSocket upgrade with this Origin may proceed. Browsers always send Origin, so a page on
 * another site cannot read the stream (cross-site WebSocket hijacking) unless its origin is allowed;
 * the API's own pages (the dashboard) are same-origin: the Origin's host:port is the Host they asked.
 * Clients that are not browsers send no Origin and pass, under the API's token rules.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  const normal = normalizeOrigin(origin);
  if (normal === undefined) return false;
  if (allowed.has(normal)) return true;
  return host !== undefined && new URL(normal).host === host.toLowerCase();
}

/** The WebSocket route. A plain GET (no upgrade) is answered 426 with a hint, so the path is discoverable. */
export function streamRoutes(app: FastifyInstance, hub: StreamHub, opts: StreamRouteOptions = {}): void {
  const allowed = new Set((opts.allowOrigins ?? []).map((o) => normalizeOrigin(o) ?? o));
  app.route({
    method: 'GET',
    url: STREAM_PATH,
    // Before the upgrade: a refused origin gets a plain 403 and never a socket.
    preValidation: async (req, reply) => {
      if (originAllowed(req.headers.origin, req.headers.host, allowed)) return;
      hub.refusedOrigin();
      await reply.code(403).send({ error: 'forbidden', message: `origin ${req.headers.origin ?? ''} may not open ${STREAM_PATH}: the API's own origin and --allow-origin only` });
    },
    schema: {
      summary: 'Live event stream (WebSocket)',
      description:
        'Upgrade to a WebSocket to receive JSON text frames: first {kind:"hello", snapshot:{switches, links, ...}}, ' +
        'then every message as it is published: link_state, event, weights, cost_row and lab_progress hints ' +
        '(the same shapes as on the bus), port_status and host. Slow readers are disconnected and should reconnect.',
      tags: ['stream'],
      response: {
        403: {
          description: 'A browser page from an origin that is neither the API\'s own nor allowed (--allow-origin)',
          type: 'object',
          properties: { error: { type: 'string' }, message: { type: 'string' } },
          required: ['error', 'message'],
        },
        426: {
          description: 'Not a WebSocket upgrade request',
          type: 'object',
          properties: { error: { type: 'string' }, message: { type: 'string' } },
          required: ['error', 'message'],
        },
      },
    },
    handler: async (_req, reply) =>
      reply
        .code(426)
        .header('upgrade', 'websocket')
        .send({ error: 'upgrade_required', message: `connect with a WebSocket client to ${STREAM_PATH}` }),
    wsHandler: (socket) => hub.attach(socket),
  });
}

function portReason(reason: number): 'add' | 'delete' | 'modify' {
  return reason === OFPPR_ADD ? 'add' : reason === OFPPR_DELETE ? 'delete' : 'modify';
}

/**
 * Wires the controller into the hub: a `switches` snapshot part and port changes as they happen.
 * Switch up/down reach the stream as event hints, from the announcer. Returns a function that unwires it.
 */
export function streamControllerEvents(controller: Controller, hub: StreamHub): () => void {
  const unprovide = hub.provide('switches', () =>
    [...controller.switches.values()].sort((a, b) => a.dpid.localeCompare(b.dpid)).map(switchView),
  );
  const port = (s: SwitchSession, m: ControllerEvents['port_status'][1]): void =>
    hub.publish({ kind: 'port_status', dpid: s.dpid, reason: portReason(m.reason), port: portView(m.port) });
  controller.on('port_status', port);
  return () => {
    unprovide();
    controller.off('port_status', port);
  };
}

/**
 * Wires discovery into the hub: `links` and `hosts` snapshot parts (as GET /links and /hosts show them)
 * and host changes. Link up/down reach the stream as event hints, from the announcer. Returns a function
 * that unwires it.
 */
export function streamNetworkEvents(network: Network, hub: StreamHub): () => void {
  const d = network.discovery;
  const unprovide = [
    hub.provide('links', () => [...d.links.values()].sort((a, b) => a.id.localeCompare(b.id)).map(linkView)),
    hub.provide('hosts', () => [...d.hosts.values()].sort((a, b) => a.mac.localeCompare(b.mac)).map((h) => hostView(h, network))),
  ];
  const host = (change: 'added' | 'moved' | 'removed') => (h: Host): void =>
    hub.publish({ kind: 'host', change, host: hostView(h, network) });
  const added = host('added');
  const moved = host('moved');
  const removed = host('removed');
  d.on('host_added', added);
  d.on('host_moved', moved);
  d.on('host_removed', removed);
  return () => {
    for (const f of unprovide) f();
    d.off('host_added', added);
    d.off('host_moved', moved);
    d.off('host_removed', removed);
  };
}

// The OpenFlow listener: accepts switches, keeps one session per datapath id, and re-emits what they say.
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { SwitchSession, type SessionOptions } from './session.ts';
import type { PacketIn, PortStatus } from './openflow/index.ts';

export interface ControllerOptions extends SessionOptions {
  readonly host?: string;
  readonly port?: number;
}

export interface ControllerEvents {
  switch_up: [SwitchSession];
  switch_down: [SwitchSession, reason: string];
  packet_in: [SwitchSession, PacketIn];
  port_status: [SwitchSession, PortStatus];
}

export class Controller extends EventEmitter<ControllerEvents> {
  /** Ready sessions by dpid (16 hex digits). */
  readonly switches = new Map<string, SwitchSession>();
  readonly counters = { connections: 0, malformed: 0, rejected: 0 };
  private readonly connecting = new Set<SwitchSession>();
  /** Every accepted socket until it closes, so that shutdown can drop them all at once. */
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private readonly log: Logger | undefined;

  constructor(private readonly opts: ControllerOptions = {}) {
    super();
    this.log = opts.logger;
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 6653, this.opts.host ?? '0.0.0.0', () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        if (addr === null || typeof addr === 'string') throw new Error('OpenFlow listener has no TCP address');
        this.log?.info({ port: addr.port }, 'OpenFlow 1.3 listener up');
        resolve({ host: addr.address, port: addr.port });
      });
    });
  }

  /**
   * Stops reading from every switch and accepting new ones: the first step of a shutdown, so that a
   * packet-in storm stops costing CPU while the rest of the process winds down.
   */
  pause(): void {
    if (this.server.listening) this.server.close();
    for (const socket of this.sockets) socket.pause();
  }

  /** Drops every switch connection at once (no goodbye that waits for peers) and stops listening. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
    for (const s of [...this.connecting, ...this.switches.values()]) s.destroy('controller shutting down');
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private accept(socket: Socket): void {
    this.counters.connections++;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const session = new SwitchSession(socket, this.opts);
    this.connecting.add(session);
    session.on('protocol_error', (err) => {
      if (err instanceof Error) this.counters.malformed++;
    });
    session.once('ready', () => {
      this.connecting.delete(session);
      const previous = this.switches.get(session.dpid);
      // A switch that reconnects with the same dpid replaces its old session (without a switch_down).
      this.switches.set(session.dpid, session);
      previous?.close('replaced by a new connection from the same datapath');
      session.on('packet_in', (m) => this.emit('packet_in', session, m));
      session.on('port_status', (m) => this.emit('port_status', session, m));
      this.emit('switch_up', session);
    });
    session.once('close', (reason) => {
      this.connecting.delete(session);
      if (session.features === undefined) this.counters.rejected++;
      if (this.switches.get(session.dpid) === session) {
        this.switches.delete(session.dpid);
        this.emit('switch_down', session, reason);
      }
    });
  }
}

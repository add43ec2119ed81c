// The OpenFlow listener: accepts switches (over TCP, or TLS with client certificates), keeps one
// session per datapath id, and re-emits what they say. It is guarded: it binds loopback unless told
// otherwise, bounds connections and handshake time, and a datapath id that is connected is not
// taken over by a newcomer unless the old session fails its liveness check (listener-limits.ts).
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { SwitchSession, type SessionOptions } from './session.ts';
import type { PacketIn, PortStatus } from 'openflow-ts';
import { systemClock, type Cancel } from '../bus/clock.ts';
import { LogLimiter } from '../bus/log-limiter.ts';
import { OpenFlowTls, type OpenFlowTlsFiles, type TlsPeer } from './listener-tls.ts';
import { admitConnection, checkListenerLimits, DEFAULT_LISTENER_LIMITS, takeoverRule, type ListenerLimits } from './listener-limits.ts';

/** Where the listener binds unless told otherwise: switches on other hosts need --of-host. */
export const DEFAULT_OF_HOST = '127.0.0.1';

export interface ControllerOptions extends SessionOptions {
  readonly host?: string;
  readonly port?: number;
  /** OpenFlow over TLS only: the controller's key and certificate, and the CA that signs switches'. */
  readonly tls?: OpenFlowTlsFiles;
  readonly limits?: Partial<ListenerLimits>;
}

export interface ControllerEvents {
  switch_up: [SwitchSession];
  /** A switch's session ended; reason starts with "replaced: " when a newcomer took its datapath id over. */
  switch_down: [SwitchSession, reason: string];
  packet_in: [SwitchSession, PacketIn];
  port_status: [SwitchSession, PortStatus];
  /**
   * No session holds this datapath id any more: per-switch state kept elsewhere (admission buckets,
   * rate samples) can go. Also after a session that named the dpid but never got it (a refused or
   * failed handshake), which switch_down does not cover.
   */
  dpid_released: [dpid: string];
}

/** Connections the listener closed or refused, by cause (each also in /metrics). */
export interface RefusalCounters {
  /** Refused at accept: every slot held by a ready switch. */
  connectionLimit: number;
  /** Unready connections closed, oldest first, to make room for a newcomer. */
  unreadyEvicted: number;
  /** Closed for not completing the handshake in time. */
  handshakeTimeout: number;
  /** Newcomers refused because the datapath id they claimed is held by a session that answers. */
  takeoverRefused: number;
  /** TLS handshakes that failed (not TLS, no certificate, a certificate the switch CA did not sign). */
  tlsFailure: number;
}

/** One accepted connection, from accept until it closes. */
interface Conn {
  /** The TCP connection as accepted. */
  readonly socket: Socket;
  /** What the session reads and writes: the same socket, or the TLS socket over it. */
  stream: Socket;
  session: SwitchSession | undefined;
  peer: TlsPeer | undefined;
  stopDeadline: Cancel;
  /** Holds its datapath id: until then its packet-ins go nowhere, so they are refused undecoded. */
  registered: boolean;
}

export class Controller extends EventEmitter<ControllerEvents> {
  /** Ready sessions by dpid (16 hex digits). */
  readonly switches = new Map<string, SwitchSession>();
  readonly counters = { connections: 0, malformed: 0, rejected: 0, replaced: 0 };
  readonly refused: RefusalCounters = { connectionLimit: 0, unreadyEvicted: 0, handshakeTimeout: 0, takeoverRefused: 0, tlsFailure: 0 };
  readonly limits: ListenerLimits;
  /** Every accepted connection until it closes. */
  private readonly conns = new Set<Conn>();
  /** Connections whose switch is not (yet) registered, oldest first: the ones that make room. */
  private readonly unready = new Set<Conn>();
  /** The TLS identity each registered session proved. */
  private readonly peers = new WeakMap<SwitchSession, TlsPeer>();
  /** Liveness checks in flight, so that newcomers racing for one datapath id share one echo. */
  private readonly checks = new Map<SwitchSession, Promise<boolean>>();
  private readonly server: Server;
  private readonly tls: OpenFlowTls | undefined;
  private readonly log: Logger | undefined;
  /** Refusals an outside party can repeat at will are logged a few per window, then summed up. */
  private readonly limitedLog: LogLimiter;

  constructor(private readonly opts: ControllerOptions = {}) {
    super();
    this.log = opts.logger;
    this.limitedLog = new LogLimiter(opts.logger, { clock: opts.clock });
    this.limits = { ...DEFAULT_LISTENER_LIMITS, ...opts.limits };
    checkListenerLimits(this.limits);
    this.tls = opts.tls === undefined ? undefined : new OpenFlowTls(opts.tls, (reason) => this.tlsFailed(reason));
    this.server = createServer((socket) => this.accept(socket));
  }

  /** The TLS identity a registered switch proved (undefined over plain TCP). */
  peerOf(session: SwitchSession): TlsPeer | undefined {
    return this.peers.get(session);
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 6653, this.opts.host ?? DEFAULT_OF_HOST, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        if (addr === null || typeof addr === 'string') throw new Error('OpenFlow listener has no TCP address');
        this.log?.info({ host: addr.address, port: addr.port, tls: this.tls !== undefined }, 'OpenFlow 1.3 listener up');
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
    for (const c of this.conns) {
      c.stream.pause();
      c.socket.pause();
    }
  }

  /** Drops every switch connection at once (no goodbye that waits for peers) and stops listening. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
    for (const c of [...this.conns]) {
      c.session?.destroy('controller shutting down');
      c.stream.destroy();
      c.socket.destroy();
    }
    this.limitedLog.flush();
    await closed;
  }

  private accept(socket: Socket): void {
    this.counters.connections++;
    const verdict = admitConnection(this.conns.size, this.unready.size, this.limits);
    if (verdict === 'refuse') {
      this.refused.connectionLimit++;
      this.log?.debug({ address: socket.remoteAddress, open: this.conns.size }, 'OpenFlow connection refused: connection limit');
      socket.destroy();
      return;
    }
    if (verdict === 'evict_oldest_unready') {
      const oldest = this.unready.values().next().value;
      if (oldest !== undefined) {
        this.refused.unreadyEvicted++;
        this.drop(oldest, 'closed to make room: too many connections in their handshake');
      }
    }
    const conn: Conn = { socket, stream: socket, session: undefined, peer: undefined, stopDeadline: () => undefined, registered: false };
    this.conns.add(conn);
    this.unready.add(conn);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      conn.stopDeadline();
      this.conns.delete(conn);
      this.unready.delete(conn);
    });
    const clock = this.opts.clock ?? systemClock;
    conn.stopDeadline = clock.setTimeout(() => {
      if (!this.unready.has(conn)) return;
      this.refused.handshakeTimeout++;
      this.drop(conn, `no completed handshake within ${this.limits.handshakeTimeoutMs} ms`);
    }, this.limits.handshakeTimeoutMs);
    if (this.tls === undefined) this.startSession(conn, socket);
    else {
      this.tls.handshake(socket, (secured, peer) => {
        if (!this.conns.has(conn)) {
          secured.destroy();
          return;
        }
        conn.peer = peer;
        conn.stream = secured;
        this.startSession(conn, secured);
      });
    }
  }

  private drop(conn: Conn, reason: string): void {
    // Out of the counts at once: its socket's close event comes later, after more accepts maybe.
    this.conns.delete(conn);
    this.unready.delete(conn);
    conn.stopDeadline();
    if (conn.session !== undefined) conn.session.destroy(reason);
    conn.stream.destroy();
    conn.socket.destroy();
  }

  private tlsFailed(reason: string): void {
    this.refused.tlsFailure++;
    this.log?.debug({ reason }, 'OpenFlow TLS handshake refused');
  }

  private startSession(conn: Conn, socket: Socket): void {
    // Packet-ins of a connection that does not hold its datapath id (yet, or ever: an impostor
    // waiting on a liveness check) are refused before the admission buckets see them, so that
    // they cannot drain the bucket of the switch whose id they claim.
    const inner = this.opts.admission;
    const admission = { admit: (dpid: string, now: number, frame: Buffer): boolean => conn.registered && (inner === undefined || inner.admit(dpid, now, frame)) };
    const session = new SwitchSession(socket, { ...this.opts, admission, limitedLog: this.limitedLog });
    conn.session = session;
    session.on('protocol_error', (err) => {
      if (err instanceof Error) this.counters.malformed++;
    });
    session.once('ready', () => {
      this.claim(conn, session).catch((err: Error) => {
        // A listener of switch_up or switch_down threw: this switch's session cannot be trusted to be wired up.
        this.log?.error({ dpid: session.dpid, err: err.message }, 'switch registration failed');
        this.drop(conn, `registration failed: ${err.message}`);
      });
    });
    session.once('close', (reason) => {
      this.unready.delete(conn);
      conn.stopDeadline();
      if (session.features === undefined) this.counters.rejected++;
      if (this.switches.get(session.dpid) === session) {
        this.switches.delete(session.dpid);
        this.emit('switch_down', session, reason);
      }
      if (session.features !== undefined && !this.switches.has(session.dpid)) this.emit('dpid_released', session.dpid);
    });
  }

  /** A newcomer finished its handshake: it gets its datapath id if nobody live holds it. */
  private async claim(conn: Conn, session: SwitchSession): Promise<void> {
    const dpid = session.dpid;
    for (;;) {
      const held = this.switches.get(dpid);
      if (held === undefined) {
        this.register(conn, session);
        return;
      }
      if (takeoverRule(this.peers.get(held), conn.peer) === 'same_certificate') {
        this.replace(held, conn, session, 'the same switch certificate connected again');
        return;
      }
      const alive = await this.answers(held);
      if (session.state === 'closed') return;
      // Someone else settled it meanwhile (the old session closed, another newcomer won): decide again.
      if (this.switches.get(dpid) !== held) continue;
      if (!alive) {
        this.replace(held, conn, session, `the connected session did not answer an echo within ${this.limits.livenessTimeoutMs} ms`);
        return;
      }
      this.refused.takeoverRefused++;
      this.limitedLog.warn({ dpid, address: session.address, holder: held.address }, 'refused a connection claiming a datapath id that is connected and answering');
      this.drop(conn, `datapath ${dpid} is already connected and answers`);
      return;
    }
  }

  /** True when the session answers an echo within the liveness bound. */
  private answers(session: SwitchSession): Promise<boolean> {
    let check = this.checks.get(session);
    if (check === undefined) {
      const clock = this.opts.clock ?? systemClock;
      check = new Promise<boolean>((resolve) => {
        const stop = clock.setTimeout(() => resolve(false), this.limits.livenessTimeoutMs);
        session.request({ type: 'echo_request', data: Buffer.alloc(0) }).then(
          () => (stop(), resolve(true)),
          () => (stop(), resolve(false)),
        );
      }).finally(() => this.checks.delete(session));
      this.checks.set(session, check);
    }
    return check;
  }

  /** The newcomer takes over: the old session goes down with the reason, then the new one comes up. */
  private replace(held: SwitchSession, conn: Conn, session: SwitchSession, why: string): void {
    const reason = `replaced: ${why}`;
    this.counters.replaced++;
    this.limitedLog.warn({ dpid: held.dpid, old: held.address, new: session.address, reason }, 'switch session replaced');
    // Unregistered first, so that its close below emits nothing more.
    this.switches.set(session.dpid, session);
    this.emit('switch_down', held, reason);
    held.close(reason);
    this.register(conn, session);
  }

  private register(conn: Conn, session: SwitchSession): void {
    conn.registered = true;
    this.unready.delete(conn);
    conn.stopDeadline();
    if (conn.peer !== undefined) this.peers.set(session, conn.peer);
    this.switches.set(session.dpid, session);
    session.on('packet_in', (m) => this.emit('packet_in', session, m));
    session.on('port_status', (m) => this.emit('port_status', session, m));
    this.emit('switch_up', session);
  }
}

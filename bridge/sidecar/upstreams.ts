// Keep-alive connections to one replica for one class: taken by an exchange, given back when its
// response ended cleanly, closed when idle longer than a replica is likely to keep them.
import { connect, type Socket } from 'node:net';

/** The exchange a connection works for; it hears everything the connection does. */
export interface UpstreamOwner {
  onUpstreamConnect(): void;
  onUpstreamData(chunk: Buffer): void;
  onUpstreamDrain(): void;
  onUpstreamClose(err: Error | undefined): void;
}

export class ConnectTimeout extends Error {
  readonly code = 'ECONNECT_TIMEOUT';
}

export class UpstreamConnection {
  owner: UpstreamOwner | undefined;
  connected = false;
  /** It carried an exchange before: a close before any answer may just be the replica's idle timeout. */
  reused = false;
  idleSince = 0;
  /** How long it may stay idle: the pool's limit, or less when the replica said it keeps connections for less. */
  idleLimitMs = Number.POSITIVE_INFINITY;
  private error: Error | undefined;

  constructor(
    readonly socket: Socket,
    private readonly pool: UpstreamPool,
  ) {
    // One set of listeners for the connection's life, not per exchange.
    socket.on('connect', () => {
      this.connected = true;
      this.owner?.onUpstreamConnect();
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.owner) this.owner.onUpstreamData(chunk);
      else socket.destroy(); // bytes no request asked for: the connection can't be trusted again
    });
    socket.on('drain', () => this.owner?.onUpstreamDrain());
    socket.on('error', (err) => {
      this.error ??= err;
    });
    socket.on('close', () => {
      this.pool.forget(this);
      const owner = this.owner;
      this.owner = undefined;
      owner?.onUpstreamClose(this.error);
    });
  }

  /**
   * Back to the pool's idle connections: its last answer ended cleanly. `keepAliveHint` is that
   * answer's Keep-Alive field: a replica saying timeout=N closes an idle connection after N s.
   */
  giveBack(now: number, keepAliveHint: string | undefined): void {
    const seconds = keepAliveHint === undefined ? undefined : /(?:^|[\s,])timeout=(\d+)/i.exec(keepAliveHint)?.[1];
    this.idleLimitMs = seconds === undefined ? Number.POSITIVE_INFINITY : Number(seconds) * 1000 - HINT_MARGIN_MS;
    this.pool.give(this, now);
  }
}

/** A connection is dropped this long before a replica's announced idle timeout would close it. */
const HINT_MARGIN_MS = 1000;

export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  /** The source address this class's connections leave from. */
  readonly localAddress?: string;
  readonly connectTimeoutMs: number;
}

export class UpstreamPool {
  /** Idle connections, the most recently used last (taken first: it is the least likely to be closed). */
  private idle: UpstreamConnection[] = [];
  private readonly open = new Set<UpstreamConnection>();

  constructor(private readonly target: UpstreamTarget) {}

  /** An idle connection, or a new one (its owner hears onUpstreamConnect or onUpstreamClose). */
  take(owner: UpstreamOwner): UpstreamConnection {
    const conn = this.idle.pop();
    if (conn) {
      conn.owner = owner;
      return conn;
    }
    const { host, port, localAddress, connectTimeoutMs } = this.target;
    const socket = connect({ host, port, noDelay: true, ...(localAddress ? { localAddress } : {}) });
    const fresh = new UpstreamConnection(socket, this);
    fresh.owner = owner;
    this.open.add(fresh);
    const timer = setTimeout(() => socket.destroy(new ConnectTimeout(`connect to ${host}:${port} timed out`)), connectTimeoutMs);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    return fresh;
  }

  give(conn: UpstreamConnection, now: number): void {
    conn.owner = undefined;
    conn.reused = true;
    conn.idleSince = now;
    if (conn.socket.destroyed) return;
    this.idle.push(conn);
  }

  forget(conn: UpstreamConnection): void {
    this.open.delete(conn);
    const at = this.idle.indexOf(conn);
    if (at >= 0) this.idle.splice(at, 1);
  }

  /** Closes connections idle longer than `maxIdleMs`, or than their replica keeps them. */
  sweep(now: number, maxIdleMs: number): void {
    for (const conn of this.idle.filter((c) => now - c.idleSince > Math.min(maxIdleMs, c.idleLimitMs))) conn.socket.destroy();
  }

  close(): void {
    for (const conn of this.open) conn.socket.destroy();
  }
}

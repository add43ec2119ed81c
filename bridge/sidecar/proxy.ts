// The sidecar's data path: an HTTP/1.1 reverse proxy the local service calls, on plain sockets.
// The service is named by the Host header (http://orders/...) or an absolute-form request URI;
// each request goes to the replica smooth weighted round robin picks, when the class scheduler
// gives it a slot (exchange.ts). node:http's server and agent cost three times what HAProxy
// does per request (bench/sidecar.ts); reading only the heads, and passing bodies through as
// bytes, is what brings the hop near it.
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import { classify, incomingTraceparent, PRIORITY_HEADER, TRACEPARENT_HEADER, traceparentFor } from './classify.ts';
import type { IngressRule, ReplicaAddress } from './config.ts';
import { Exchange, KEEP_ALIVE_S, type Caller, type ExchangeHost, type Routed } from './exchange.ts';
import { BodyTracker, encodeHead, headEnd, HOP_BY_HOP, HttpParseError, MAX_HEAD_BYTES, parseRequestHead, plainAnswer, requestFraming, type RequestHead } from './http1.ts';
import type { SidecarMetrics } from './metrics.ts';
import { ClassScheduler, DEFAULT_SCHEDULER, type SchedulerSettings } from './scheduler.ts';
import type { HopTracer } from './spans.ts';
import { SmoothWeightedRoundRobin } from './swrr.ts';
import { UpstreamPool } from './upstreams.ts';
import type { WeightStore } from './weights.ts';

export { REPLICA_HEADER } from './exchange.ts';

export interface ProxyOptions {
  readonly services: Readonly<Record<string, { readonly replicas: readonly ReplicaAddress[] }>>;
  readonly weights: WeightStore;
  readonly metrics: SidecarMetrics;
  readonly rules?: readonly IngressRule[];
  readonly defaultClass?: string;
  readonly connectTimeoutMs?: number;
  /** Classes (highest first), slots per replica, queue bounds; default: no queueing. */
  readonly scheduling?: Partial<SchedulerSettings>;
  /** The source address each class's connections leave from, so the network can tell classes apart. */
  readonly sourceAddresses?: Readonly<Record<string, string>>;
  readonly now?: () => number;
  /** Writes a span per hop; without it, the incoming traceparent passes through unchanged. */
  readonly tracer?: HopTracer;
}

/** A caller's connection idle this long between requests is closed: a second past what it was told... */
const KEEP_ALIVE_MS = KEEP_ALIVE_S * 1000 + 1000;
/** ...and one that started a head but has not finished it, after this long. */
const HEAD_TIMEOUT_MS = 60_000;
/** Idle connections to replicas are closed before a replica's own idle timeout (node:http's 5 s) would. */
const UPSTREAM_IDLE_MS = 4000;

/** Fields not sent on: hop-by-hop ones, and those the sidecar sets itself on the way on. */
const DROPPED = new Set([...HOP_BY_HOP, PRIORITY_HEADER, TRACEPARENT_HEADER, 'x-forwarded-for']);
/** A request target in absolute form (RFC 9112 §3.2.2), as a caller that takes the sidecar for a forward proxy sends it. */
const ABSOLUTE = /^https?:\/\//i;

export class SidecarProxy implements ExchangeHost {
  readonly scheduler: ClassScheduler;
  readonly tracer: HopTracer | undefined;
  readonly now: () => number;
  private readonly pickers = new Map<string, SmoothWeightedRoundRobin>();
  private readonly serviceNames: readonly string[];
  /** The weights revision and freshness each service's picker and gauges were last set for. */
  private readonly weightsSeen = new Map<string, { revision: number; fresh: boolean }>();
  /** Keep-alive connections by "service/replica/class": one class's connections never queue behind another's. */
  private readonly pools = new Map<string, UpstreamPool>();
  private readonly callers = new Set<CallerConnection>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly opts: ProxyOptions) {
    this.serviceNames = Object.keys(opts.services);
    for (const service of this.serviceNames) this.pickers.set(service, new SmoothWeightedRoundRobin());
    const settings = { ...DEFAULT_SCHEDULER, ...opts.scheduling };
    this.now = opts.now ?? (() => performance.now());
    this.tracer = opts.tracer;
    this.scheduler = new ClassScheduler(settings, (s) => this.pickers.get(s), (s) => (opts.services[s]?.replicas ?? []).map((r) => r.id), this.now);
    if (Number.isFinite(settings.concurrencyPerReplica)) this.timers.push(setInterval(() => this.scheduler.expire(), Math.min(250, settings.queueTimeoutMs)).unref());
    this.timers.push(setInterval(() => this.sweep(), 1000).unref());
  }

  /** Weights in force for a service now (what the picker uses). */
  weightsFor(service: string): Record<string, number> {
    const reps = this.opts.services[service]?.replicas ?? [];
    return this.opts.weights.effective(service, reps.map((r) => r.id));
  }

  /** Takes a caller's connection (the net.Server's connection listener). */
  readonly accept = (socket: Socket): void => {
    const c = new CallerConnection(this, socket);
    this.callers.add(c);
    socket.once('close', () => this.callers.delete(c));
  };

  /** Starts a request the caller's connection has read. */
  route(exchange: Exchange, peer: string): void {
    const req = exchange.request;
    // What follows a CONNECT is a tunnel's bytes, not requests: the connection closes.
    if (req.method === 'CONNECT') return exchange.reply(405, 'meshflow sidecar: CONNECT is not served\n', '', true);
    // A path, a whole http(s) URL, or "*" for OPTIONS (RFC 9112 §3.2); anything else is for no replica.
    if (req.target.charCodeAt(0) !== 0x2f && !ABSOLUTE.test(req.target) && !(req.target === '*' && req.method === 'OPTIONS')) {
      return exchange.reply(400, 'meshflow sidecar: the request target is neither a path nor an http(s) URL\n');
    }
    const target = this.resolve(req);
    if (!target) return exchange.reply(404, `meshflow sidecar: no service for host ${String(req.headers['host'])}\n`);
    const { service, path } = target;
    const cls = classify({ method: req.method, path, headers: req.headers }, this.opts.rules ?? [], this.opts.defaultClass);
    const opened = this.tracer?.start(service, cls, req.method, path, incomingTraceparent(req.headers));
    this.applyWeights(service);
    const traceparent = opened?.traceparent ?? traceparentFor(req.headers);
    const forwardedFor = req.headers['x-forwarded-for'];
    const hasHost = req.headers['host'] !== undefined;
    const extra = `${PRIORITY_HEADER}: ${cls}\r\n${TRACEPARENT_HEADER}: ${traceparent}\r\nx-forwarded-for: ${forwardedFor && peer ? `${forwardedFor}, ${peer}` : forwardedFor || peer}\r\n`;
    const routed: Routed = { service, path, cls, head: this.headOut(req, path, exchange.requestChunked, extra), hasHost };
    exchange.begin(routed, opened?.span);
    this.scheduler.submit(
      service,
      cls,
      (replica) => exchange.dispatch(replica),
      (reason) => {
        this.opts.metrics.shed.inc({ service, class: cls, reason });
        exchange.shed(reason);
      },
    );
  }

  /** The request line, the caller's end-to-end fields and `extra`; HTTP/1.0 asks to keep the connection. */
  private headOut(req: RequestHead, path: string, chunked: boolean, extra: string): Buffer {
    const framing = `${chunked ? 'transfer-encoding: chunked\r\n' : ''}${req.minor === 0 ? 'connection: keep-alive\r\n' : ''}`;
    return encodeHead(`${req.method} ${path} HTTP/1.${req.minor}\r\n`, req, DROPPED, framing + extra);
  }

  private resolve(req: RequestHead): { service: string; path: string } | undefined {
    let host: string | undefined;
    let path = req.target;
    if (path.charCodeAt(0) !== 0x2f && ABSOLUTE.test(path)) {
      let u: URL;
      try {
        u = new URL(path);
      } catch {
        return undefined;
      }
      host = u.hostname;
      path = u.pathname + u.search;
    } else {
      host = req.headers['host']?.replace(/:\d+$/, '');
    }
    if (host !== undefined && this.opts.services[host]) return { service: host, path };
    // A sidecar for a single service needs no naming: anything sent to it is for that service.
    const names = this.serviceNames;
    if (names.length === 1 && names[0] !== undefined) return { service: names[0], path };
    return undefined;
  }

  /**
   * Gives the picker and the gauges the weights in force, only when they changed (a new hint, or
   * freshness lost or regained): sorting and keying them on every request cost the hot path.
   */
  private applyWeights(service: string): void {
    const store = this.opts.weights;
    const fresh = store.fresh();
    const seen = this.weightsSeen.get(service);
    if (seen && seen.revision === store.revision && seen.fresh === fresh) return;
    this.weightsSeen.set(service, { revision: store.revision, fresh });
    const weights = this.weightsFor(service);
    this.opts.metrics.weightsFresh.set(fresh ? 1 : 0);
    for (const [replica, w] of Object.entries(weights)) this.opts.metrics.weight.set({ service, replica }, w);
    this.pickers.get(service)?.setWeights(weights);
  }

  replica(service: string, id: string): ReplicaAddress | undefined {
    return this.opts.services[service]?.replicas.find((r) => r.id === id);
  }

  pool(service: string, replica: ReplicaAddress, cls: string): UpstreamPool {
    const key = `${service}/${replica.id}/${cls}`;
    let p = this.pools.get(key);
    if (!p) {
      const localAddress = this.opts.sourceAddresses?.[cls];
      p = new UpstreamPool({ host: replica.host, port: replica.port, connectTimeoutMs: this.opts.connectTimeoutMs ?? 2000, ...(localAddress ? { localAddress } : {}) });
      this.pools.set(key, p);
    }
    return p;
  }

  retryTarget(service: string, tried: ReadonlySet<string>): string | undefined {
    return this.pickers.get(service)?.next(tried);
  }

  acquire(service: string, replica: string): void {
    this.scheduler.acquire(service, replica);
  }

  release(service: string, replica: string): void {
    this.scheduler.release(service, replica);
  }

  answered(service: string, replica: string, cls: string, seconds: number): void {
    const labels = { service, replica, class: cls };
    this.opts.metrics.requests.inc(labels);
    this.opts.metrics.latency.observe(labels, seconds);
  }

  failed(service: string, replica: string, reason: string): void {
    this.opts.metrics.upstreamFailures.inc({ service, replica, reason });
  }

  retried(service: string): void {
    this.opts.metrics.retries.inc({ service });
  }

  /** Closes idle connections: callers past their keep-alive or head timeout, replicas' past theirs. */
  private sweep(): void {
    const now = this.now();
    for (const c of this.callers) c.expire(now);
    for (const p of this.pools.values()) p.sweep(now, UPSTREAM_IDLE_MS);
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    for (const c of this.callers) c.socket.destroy();
    for (const p of this.pools.values()) p.close();
  }
}

/** A caller's connection: requests read one after another, each answered before the next is read. */
class CallerConnection implements Caller {
  closed = false;
  private buf: Buffer | undefined;
  private exchange: Exchange | undefined;
  private idleSince: number;
  private refused = false;
  private readonly peer: string;

  constructor(
    private readonly proxy: SidecarProxy,
    readonly socket: Socket,
  ) {
    this.idleSince = proxy.now();
    this.peer = socket.remoteAddress ?? '';
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.exchange?.onCallerDrain());
    socket.on('error', () => undefined); // a caller gone mid-write: 'close' follows
    socket.on('close', () => {
      this.closed = true;
      this.exchange?.onCallerClose();
    });
  }

  private onData(chunk: Buffer): void {
    if (this.refused) return;
    const ex = this.exchange;
    if (ex && !ex.requestDone && this.buf === undefined) {
      const n = ex.requestBody(chunk, 0);
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    if (!this.exchange) this.next();
    // Pipelined requests wait for the answer before them; past a head's worth, so does the socket.
    else if (this.buf.length > MAX_HEAD_BYTES) this.socket.pause();
  }

  /** Reads the next request from the bytes held, if a whole head is there. */
  private next(): void {
    let buf = this.buf;
    // An empty line before a request line is ignored (RFC 9112 §2.2).
    while (buf && buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) buf = buf.length > 2 ? buf.subarray(2) : undefined;
    this.buf = buf;
    if (!buf) return;
    let end: number;
    let head: RequestHead;
    let body: BodyTracker;
    try {
      end = headEnd(buf);
      if (end < 0) return;
      head = parseRequestHead(buf, end);
      body = new BodyTracker(requestFraming(head));
    } catch (err) {
      if (err instanceof HttpParseError) return this.refuse(err);
      throw err;
    }
    const ex = new Exchange(this.proxy, this, head, body);
    this.exchange = ex;
    let rest: Buffer | undefined = end < buf.length ? buf.subarray(end) : undefined;
    if (rest && !ex.requestDone) {
      const n = ex.requestBody(rest, 0);
      rest = n < rest.length ? rest.subarray(n) : undefined;
    }
    this.buf = rest;
    this.proxy.route(ex, this.peer);
  }

  finished(keepAlive: boolean): void {
    this.exchange = undefined;
    if (!keepAlive) {
      this.refused = true;
      this.socket.destroySoon();
      return;
    }
    this.idleSince = this.proxy.now();
    if (this.socket.isPaused()) this.socket.resume();
    // A request pipelined behind the last one may be complete already; its body bytes follow.
    const held = this.buf;
    if (held) {
      this.buf = undefined;
      this.onData(held);
    }
  }

  /** A request that can't be read: answered once, and the connection closed (nothing after it can be framed). */
  private refuse(err: HttpParseError): void {
    this.refused = true;
    this.buf = undefined;
    this.socket.end(plainAnswer(err.status, `meshflow sidecar: ${err.message}\n`, { keepAlive: false }), 'latin1');
  }

  expire(now: number): void {
    if (this.exchange) return;
    if (now - this.idleSince > (this.buf ? HEAD_TIMEOUT_MS : KEEP_ALIVE_MS)) this.socket.destroy();
  }
}

// The sidecar's data path: an HTTP/1.1 reverse proxy the local service calls. The service
// is named by the Host header (http://orders/...) or an absolute-form request URI; each
// request goes to the replica smooth weighted round robin picks, over a keep-alive agent
// per replica and class, and is retried once on another replica when the first never connected.
// The class scheduler decides when a request may go (a slot free on a replica) and which wait.
import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { classify, incomingTraceparent, PRIORITY_HEADER, TRACEPARENT_HEADER, traceparentFor } from './classify.ts';
import type { IngressRule, ReplicaAddress } from './config.ts';
import type { SidecarMetrics } from './metrics.ts';
import { ClassScheduler, DEFAULT_SCHEDULER, type SchedulerSettings, type ShedReason } from './scheduler.ts';
import { serverTimingMs, type HopTracer } from './spans.ts';
import { SmoothWeightedRoundRobin } from './swrr.ts';
import type { WeightStore } from './weights.ts';

export const REPLICA_HEADER = 'x-meshflow-replica';

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

interface Hop {
  readonly service: string;
  readonly path: string;
  readonly cls: string;
  readonly headers: OutgoingHttpHeaders;
  readonly start: number;
  /** The replica that answered (for the span). */
  replica?: string;
  retried?: boolean;
  /** With a tracer: how long it waited for a slot, and the upstream's own time (its Server-Timing), ms. */
  queuedMs?: number;
  serverMs?: number;
}

/** How long a shed client is asked to wait before trying again (s). */
const RETRY_AFTER_S = 1;

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  // Every request passes here: no Set or entry arrays unless a Connection header names more to drop.
  const connection = headers['connection'];
  const listed = connection ? new Set(connection.split(',').map((s) => s.trim().toLowerCase())) : undefined;
  const out: OutgoingHttpHeaders = {};
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined && !HOP_BY_HOP.has(k) && !listed?.has(k)) out[k] = v;
  }
  return out;
}

/** Whether a request carries a body (RFC 9112 §6.3: only a Transfer-Encoding or a Content-Length says so). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

class ConnectTimeout extends Error {
  readonly code = 'ECONNECT_TIMEOUT';
}

export class SidecarProxy {
  readonly scheduler: ClassScheduler;
  private readonly pickers = new Map<string, SmoothWeightedRoundRobin>();
  private readonly serviceNames: readonly string[];
  /** The weights revision and freshness each service's picker and gauges were last set for. */
  private readonly weightsSeen = new Map<string, { revision: number; fresh: boolean }>();
  /** Keep-alive agents by "service/replica/class": one class's connections never queue behind another's. */
  private readonly agents = new Map<string, Agent>();
  private readonly expiry: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ProxyOptions) {
    this.serviceNames = Object.keys(opts.services);
    for (const service of this.serviceNames) this.pickers.set(service, new SmoothWeightedRoundRobin());
    const settings = { ...DEFAULT_SCHEDULER, ...opts.scheduling };
    const now = opts.now ?? (() => performance.now());
    this.scheduler = new ClassScheduler(settings, (s) => this.pickers.get(s), (s) => (opts.services[s]?.replicas ?? []).map((r) => r.id), now);
    if (Number.isFinite(settings.concurrencyPerReplica)) this.expiry = setInterval(() => this.scheduler.expire(), Math.min(250, settings.queueTimeoutMs)).unref();
  }

  /** Weights in force for a service now (what the picker uses). */
  weightsFor(service: string): Record<string, number> {
    const reps = this.opts.services[service]?.replicas ?? [];
    return this.opts.weights.effective(service, reps.map((r) => r.id));
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const target = this.resolve(req);
    if (!target) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`meshflow sidecar: no service for host ${String(req.headers.host)}\n`);
      return;
    }
    const { service, path } = target;
    const cls = classify({ method: req.method ?? 'GET', path, headers: req.headers }, this.opts.rules ?? [], this.opts.defaultClass);
    const tracer = this.opts.tracer;
    const opened = tracer?.start(service, cls, req.method ?? 'GET', path, incomingTraceparent(req.headers));
    this.applyWeights(service);
    const headers = endToEnd(req.headers);
    headers[PRIORITY_HEADER] = cls;
    headers[TRACEPARENT_HEADER] = opened?.traceparent ?? traceparentFor(req.headers);
    const forwardedFor = req.headers['x-forwarded-for'];
    const peer = req.socket.remoteAddress;
    headers['x-forwarded-for'] = forwardedFor && peer ? `${forwardedFor}, ${peer}` : forwardedFor || peer || '';
    const hop: Hop = { service, path, cls, headers, start: performance.now() };
    if (tracer && opened) {
      // One object of one shape ('close' comes once): spreading optional parts per request showed in the profile.
      res.on('close', () => tracer.end(opened.span, { replica: hop.replica, status: res.statusCode, retried: hop.retried, queuedMs: hop.queuedMs, serverMs: hop.serverMs, error: res.writableFinished ? undefined : 'aborted' }));
    }
    this.scheduler.submit(
      service,
      cls,
      (replica) => {
        // The caller may have gone away while the request waited.
        if (res.destroyed) return this.scheduler.release(service, replica);
        if (tracer) hop.queuedMs = performance.now() - hop.start;
        this.attempt(req, res, hop, replica, new Set(), false);
      },
      (reason) => this.shed(res, service, cls, reason),
    );
  };

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

  private shed(res: ServerResponse, service: string, cls: string, reason: ShedReason): void {
    this.opts.metrics.shed.inc({ service, class: cls, reason });
    if (res.destroyed) return;
    const why = reason === 'no_room' ? 'no replica has room on its path' : reason === 'queue_full' ? 'queue full' : 'waited too long';
    res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': String(RETRY_AFTER_S) }).end(`meshflow sidecar: ${service} refused for class ${cls}: ${why}\n`);
  }

  private agent(service: string, replica: string, cls: string): Agent {
    const key = `${service}/${replica}/${cls}`;
    let a = this.agents.get(key);
    if (!a) {
      const localAddress = this.opts.sourceAddresses?.[cls];
      a = new Agent({ keepAlive: true, maxSockets: 256, ...(localAddress ? { localAddress } : {}) });
      this.agents.set(key, a);
    }
    return a;
  }

  private resolve(req: IncomingMessage): { service: string; path: string } | undefined {
    const url = req.url ?? '/';
    let host: string | undefined;
    let path = url;
    if (/^https?:\/\//i.test(url)) {
      const u = new URL(url);
      host = u.hostname;
      path = u.pathname + u.search;
    } else {
      host = req.headers.host?.replace(/:\d+$/, '');
    }
    const names = this.serviceNames;
    if (host !== undefined && this.opts.services[host]) return { service: host, path };
    // A sidecar for a single service needs no naming: anything sent to it is for that service.
    if (names.length === 1 && names[0] !== undefined) return { service: names[0], path };
    return undefined;
  }

  private attempt(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: Hop,
    replicaId: string,
    tried: Set<string>,
    retried: boolean,
  ): void {
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.scheduler.release(ctx.service, replicaId);
    };
    const rep = this.opts.services[ctx.service]?.replicas.find((r) => r.id === replicaId);
    if (!rep) {
      release();
      return void res.writeHead(502).end();
    }
    const agent = this.agent(ctx.service, replicaId, ctx.cls);
    tried.add(replicaId);
    let connected = false;
    const up = httpRequest({ host: rep.host, port: rep.port, method: req.method, path: ctx.path, headers: ctx.headers, agent });

    const onConnected = () => {
      connected = true;
      // Only now does the body start to flow: a failed connect leaves it unread, for the retry.
      // Most requests have none: ending at once spares the pipe's listeners and ticks.
      if (hasBody(req)) req.pipe(up);
      else up.end();
    };
    up.on('socket', (sock) => {
      if (!sock.connecting) return onConnected();
      const t = setTimeout(() => up.destroy(new ConnectTimeout(`connect to ${rep.host}:${rep.port} timed out`)), this.opts.connectTimeoutMs ?? 2000);
      sock.once('connect', () => {
        clearTimeout(t);
        onConnected();
      });
      sock.once('close', () => clearTimeout(t));
    });

    up.on('response', (ur) => {
      ctx.replica = replicaId;
      ctx.retried = retried;
      if (this.opts.tracer) ctx.serverMs = serverTimingMs(ur.headers['server-timing']);
      const labels = { service: ctx.service, replica: replicaId, class: ctx.cls };
      this.opts.metrics.requests.inc(labels);
      this.opts.metrics.latency.observe(labels, (performance.now() - ctx.start) / 1000);
      const headers = endToEnd(ur.headers);
      headers[REPLICA_HEADER] = replicaId;
      res.writeHead(ur.statusCode ?? 502, headers);
      ur.pipe(res);
      ur.on('error', () => res.destroy());
    });

    up.on('error', (err: NodeJS.ErrnoException) => {
      release();
      const reason = err.code ?? 'error';
      this.opts.metrics.upstreamFailures.inc({ service: ctx.service, replica: replicaId, reason });
      // A reused keep-alive socket the replica had already closed fails the same way, and a
      // bodiless request on it is safe to send again.
      const staleSocket = up.reusedSocket && reason === 'ECONNRESET' && ['GET', 'HEAD', 'OPTIONS'].includes(req.method ?? '');
      if (!retried && (!connected || staleSocket) && !res.headersSent) {
        const next = this.pickers.get(ctx.service)?.next(tried);
        if (next) {
          this.opts.metrics.retries.inc({ service: ctx.service });
          this.scheduler.acquire(ctx.service, next);
          return this.attempt(req, res, ctx, next, tried, true);
        }
      }
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`meshflow sidecar: ${ctx.service} unavailable (${reason})\n`);
      else res.destroy();
    });
    // The answer is done, or the caller went away (then stop the upstream work too): the slot frees.
    res.on('close', () => {
      release();
      if (!res.writableFinished) up.destroy();
    });
  }

  close(): void {
    clearInterval(this.expiry);
    for (const a of this.agents.values()) a.destroy();
  }
}

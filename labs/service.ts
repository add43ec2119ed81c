// A small HTTP service for the labs, run on a Mininet host:
//   node --import tsx labs/service.ts --port 8080 --name web-a --size 65536 --work-ms 2
// Answers every request with `size` bytes (or ?size=N) after `work-ms` of simulated work. With
// --upstream it is a middle tier: it calls the next service through its own sidecar, carrying
// the request's class and trace context along (as any mesh-aware service forwards them), and
// relays the answer. --route class=service picks the upstream service name per class (default=…
// for every class not named).
// The last hop answers with the class and traceparent it saw (x-meshflow-class, x-meshflow-trace),
// and a middle tier relays both, so the caller can check that they survived every hop.
// --workers N gives the simulated work N workers (compute priority): requests that find them all
// busy wait, interactive (high) first, batch (low) last; --workers-fifo waits in arrival order.
// The message-queue hop (priority/handoff.ts): with --handoff-url a middle tier first hands the
// request's work to the next service through RabbitMQ queue --queue-name (message priority per
// class from --queue-priority class=N; none given: all 0) and waits until it is done; with
// --consume-url a service takes that work, --consumers pieces at a time, --consume-work-ms each.
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import type { WorkQueueSettings } from '../bridge/queue/queue.ts';
import { Handoff, serveWork } from './priority/handoff.ts';
import { workClassOf, Workers } from './workers.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', multiple: true },
    name: { type: 'string', default: 'service' },
    size: { type: 'string', default: '1024' },
    'work-ms': { type: 'string', default: '0' },
    upstream: { type: 'string' },
    route: { type: 'string', multiple: true },
    workers: { type: 'string', default: '0' },
    'workers-fifo': { type: 'boolean', default: false },
    'handoff-url': { type: 'string' },
    'consume-url': { type: 'string' },
    'queue-name': { type: 'string', default: 'work' },
    'queue-priority': { type: 'string', multiple: true },
    'consume-work-ms': { type: 'string', default: '0' },
    consumers: { type: 'string', default: '1' },
  },
});

const CLASS = 'x-meshflow-priority';
const FORWARDED = [CLASS, 'traceparent'];
/** What the last hop saw, relayed back unchanged by middle tiers. */
const ECHOED = ['x-meshflow-class', 'x-meshflow-trace'];
const name = values.name ?? 'service';
const defaultSize = Number(values.size);
const workMs = Number(values['work-ms']);
const upstream = values.upstream ? new URL(values.upstream) : undefined;
const workerCount = Number(values.workers);
if (!Number.isInteger(workerCount) || workerCount < 0) throw new Error(`--workers ${values.workers}: not a count`);
/** Only work takes a worker: without --work-ms there is nothing to wait for. */
const workers = workerCount > 0 && workMs > 0 ? new Workers(workerCount, !values['workers-fifo']) : undefined;
const routes = new Map((values.route ?? []).map((r) => r.split('=', 2) as [string, string]));
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
const queueSettings: WorkQueueSettings = {
  queue: values['queue-name'] ?? 'work',
  priorities: Object.fromEntries((values['queue-priority'] ?? []).map((p) => {
    const [cls, n] = p.split('=', 2);
    return [cls ?? '', Number(n)];
  })),
};
/** Requests wait at most this long for the queue hop (the lab's clients give up after 10 s). */
const HANDOFF_TIMEOUT_MS = 10_000;
const handoff = values['handoff-url'] ? await Handoff.open(values['handoff-url'], queueSettings, HANDOFF_TIMEOUT_MS) : undefined;
if (values['consume-url']) await serveWork(values['consume-url'], queueSettings, Number(values.consumers), Number(values['consume-work-ms']));
const chunk = Buffer.alloc(64 * 1024, 'x');

function sizeOf(req: IncomingMessage): number {
  const q = new URL(req.url ?? '/', 'http://x').searchParams.get('size');
  const n = q === null ? defaultSize : Number(q);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, 64 * 1024 * 1024) : defaultSize;
}

function answer(req: IncomingMessage, res: ServerResponse, t0: number): void {
  let left = sizeOf(req);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'server-timing': serverTiming(t0), 'content-length': left, 'x-service': name, 'x-meshflow-class': String(req.headers[CLASS] ?? ''), 'x-meshflow-trace': String(req.headers['traceparent'] ?? '') });
  // Written in chunks with backpressure, so a slow network path is felt by this response alone.
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

function relay(req: IncomingMessage, res: ServerResponse, base: URL, t0: number): void {
  const cls = String(req.headers[CLASS] ?? '');
  const headers: Record<string, string> = { host: routes.get(cls) ?? routes.get('default') ?? base.hostname };
  for (const h of FORWARDED) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const up = request({ host: base.hostname, port: base.port, path: req.url, headers, agent }, (ur) => {
    const echoed = Object.fromEntries(ECHOED.flatMap((h) => (typeof ur.headers[h] === 'string' ? [[h, ur.headers[h]]] : [])));
    res.writeHead(ur.statusCode ?? 502, { 'content-type': 'application/octet-stream', 'server-timing': serverTiming(t0), 'x-service': name, 'x-upstream-replica': String(ur.headers['x-meshflow-replica'] ?? ''), ...echoed });
    ur.pipe(res);
  });
  up.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502).end(`${name}: upstream failed: ${e.message}\n`);
    else res.destroy();
  });
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  up.end();
}

/** The queue hop first, when there is one; a failed hand-off answers 503. */
function relayAfterHandoff(req: IncomingMessage, res: ServerResponse, base: URL, h: Handoff, t0: number): void {
  const cls = req.headers[CLASS];
  const tp = req.headers['traceparent'];
  h.hand(typeof cls === 'string' ? cls : '', typeof tp === 'string' ? tp : undefined).then(
    () => relay(req, res, base, t0),
    (e: Error) => void (res.headersSent ? res.destroy() : res.writeHead(503).end(`${name}: work queue: ${e.message}\n`)),
  );
}

/**
 * What this service spent before its answer started, its upstream's answer included (the spans'
 * split subtracts the hops it made itself): read by the caller's sidecar (labs/priority/waterfall.ts).
 */
function serverTiming(t0: number): string {
  return `app;dur=${(performance.now() - t0).toFixed(2)}`;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const t0 = performance.now();
  req.resume();
  const go = (): void => (upstream ? (handoff ? relayAfterHandoff(req, res, upstream, handoff, t0) : relay(req, res, upstream, t0)) : answer(req, res, t0));
  if (workMs <= 0) return go();
  // The worker is held for the work only, not while the answer travels.
  const work = (): void => void setTimeout(() => {
    workers?.done();
    go();
  }, workMs);
  const cls = req.headers[CLASS];
  if (workers) workers.submit(workClassOf(typeof cls === 'string' ? cls : undefined), work);
  else work();
}

for (const p of values.port ?? ['8080']) {
  createServer({ keepAlive: true }, handle).listen(Number(p), '0.0.0.0', () => process.stdout.write(`${name} listening on ${p}\n`));
}
process.on('SIGTERM', () => process.exit(0));

// A small HTTP service for the labs, run on a Mininet host:
//   node --import tsx labs/service.ts --port 8080 --name web-a --size 65536 --work-ms 2
// Answers every request with `size` bytes (or ?size=N) after `work-ms` of simulated work. With
// --upstream it is a middle tier: it calls the next service through its own sidecar, carrying
// the request's class and trace context along (as any mesh-aware service forwards them), and
// relays the answer. --route class=service picks the upstream service name per class, because
// the network tells traffic classes apart by port (one service name per port), not by header.
// The last hop answers with the class and traceparent it saw (x-meshflow-class, x-meshflow-trace),
// and a middle tier relays both, so the caller can check that they survived every hop.
// --workers N gives the simulated work N workers (compute priority): requests that find them all
// busy wait, interactive (high) first, batch (low) last; --workers-fifo waits in arrival order.
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
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
const chunk = Buffer.alloc(64 * 1024, 'x');

function sizeOf(req: IncomingMessage): number {
  const q = new URL(req.url ?? '/', 'http://x').searchParams.get('size');
  const n = q === null ? defaultSize : Number(q);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, 64 * 1024 * 1024) : defaultSize;
}

function answer(req: IncomingMessage, res: ServerResponse): void {
  let left = sizeOf(req);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left, 'x-service': name, 'x-meshflow-class': String(req.headers[CLASS] ?? ''), 'x-meshflow-trace': String(req.headers['traceparent'] ?? '') });
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

function relay(req: IncomingMessage, res: ServerResponse, base: URL): void {
  const cls = String(req.headers[CLASS] ?? '');
  const headers: Record<string, string> = { host: routes.get(cls) ?? routes.get('default') ?? base.hostname };
  for (const h of FORWARDED) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const up = request({ host: base.hostname, port: base.port, path: req.url, headers, agent }, (ur) => {
    const echoed = Object.fromEntries(ECHOED.flatMap((h) => (typeof ur.headers[h] === 'string' ? [[h, ur.headers[h]]] : [])));
    res.writeHead(ur.statusCode ?? 502, { 'content-type': 'application/octet-stream', 'x-service': name, 'x-upstream-replica': String(ur.headers['x-meshflow-replica'] ?? ''), ...echoed });
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

function handle(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const go = (): void => (upstream ? relay(req, res, upstream) : answer(req, res));
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

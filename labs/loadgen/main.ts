// The open-loop load generator, run as its own process on a Mininet host (beside the client's
// sidecar): fixed request rate, every request timed from its due time, one JSON line per request.
//   node --import tsx labs/loadgen/main.ts --url http://127.0.0.1:15001/ --service web \
//        --rate 20 --duration 30 --tag all --out /path/requests.jsonl [--start-at <ms epoch>] [--trace]
// With --trace every request carries a fresh W3C traceparent, and the record says whether the
// last service hop saw it unchanged (x-meshflow-trace), next to the class it saw (x-meshflow-class).
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { traceKept, type RequestRecord } from './record.ts';
import { dueCount, dueTime, totalRequests } from './schedule.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    service: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    tag: { type: 'string', default: 'all' },
    out: { type: 'string' },
    'timeout-ms': { type: 'string', default: '10000' },
    'start-at': { type: 'string' },
    trace: { type: 'boolean', default: false },
  },
});

function need(name: string, v: string | undefined): string {
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

const url = new URL(need('url', values.url));
const rate = Number(need('rate', values.rate));
const durationMs = Number(need('duration', values.duration)) * 1000;
const timeoutMs = Number(values['timeout-ms']);
const tag = values.tag ?? 'all';
if (!(rate > 0) || !(durationMs > 0)) throw new Error('--rate and --duration must be positive');
const out = createWriteStream(need('out', values.out), { flags: 'a' });
// One connection per request in flight: requests never queue behind each other in the client.
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
const total = totalRequests(rate, durationMs);
const startMs = values['start-at'] ? Number(values['start-at']) : Date.now() + 200;
let sent = 0;
let done = 0;

function fire(i: number): void {
  const due = dueTime(startMs, rate, i);
  const traceparent = values.trace ? `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` : undefined;
  let seen: { cls?: string; trace?: string } = {};
  let bytes = 0;
  let finished = false;
  const finish = (status: number, replica: string | undefined, error?: string): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    const rec: RequestRecord = {
      due: Math.round(due),
      latencyMs: Math.round((Date.now() - due) * 100) / 100,
      status,
      tag,
      bytes,
      ...(replica ? { replica } : {}),
      ...(error ? { error } : {}),
      ...(seen.cls !== undefined ? { seenClass: seen.cls } : {}),
      ...(traceparent !== undefined && status !== 0 ? { traceKept: traceKept(traceparent, seen.trace) } : {}),
    };
    out.write(`${JSON.stringify(rec)}\n`);
    done++;
    if (done === total) out.end(() => process.exit(0));
  };
  const req = request(
    {
      host: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      agent,
      headers: { ...(values.service ? { host: values.service } : {}), ...(traceparent ? { traceparent } : {}) },
    },
    (res) => {
      const replica = res.headers['x-meshflow-replica'];
      const cls = res.headers['x-meshflow-class'];
      const trace = res.headers['x-meshflow-trace'];
      seen = { ...(typeof cls === 'string' && cls !== '' ? { cls } : {}), ...(typeof trace === 'string' && trace !== '' ? { trace } : {}) };
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => finish(res.statusCode ?? 0, Array.isArray(replica) ? replica[0] : replica));
      res.on('error', (e) => finish(0, undefined, e.message));
    },
  );
  const timer = setTimeout(() => {
    req.destroy(new Error('timeout'));
    finish(0, undefined, 'timeout');
  }, timeoutMs);
  req.on('error', (e: NodeJS.ErrnoException) => finish(0, undefined, e.code ?? e.message));
  req.end();
}

// A 2 ms tick keeps send jitter small; a late tick sends everything that became due meanwhile.
const tick = setInterval(() => {
  const due = dueCount(startMs, rate, Date.now(), total);
  while (sent < due) fire(sent++);
  if (sent >= total) clearInterval(tick);
}, 2);

process.on('SIGTERM', () => out.end(() => process.exit(0)));

// The batch class as a closed loop, run as its own process on the client host: `--concurrency`
// requests in flight, each followed by the next as soon as it ends, from --start-at for --duration
// seconds. An open-loop batch below the link's rate gets all it asks for whatever the network does,
// so its throughput cannot show what prioritisation takes from it; a closed loop takes what it is
// given, and its throughput can. Records as the open-loop generator writes them (loadgen/record.ts),
// `due` being the moment each request was sent.
//   node --import tsx labs/priority/closed-loop.ts --url http://127.0.0.1:15001/batch?size=400000 \
//        --service svc-a --concurrency 2 --duration 30 --tag low --out requests-low.jsonl --start-at <ms> [--trace]
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { traceKept, type RequestRecord } from '../loadgen/record.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    service: { type: 'string' },
    concurrency: { type: 'string', default: '1' },
    duration: { type: 'string' },
    tag: { type: 'string', default: 'low' },
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
const concurrency = Number(values.concurrency);
const durationMs = Number(need('duration', values.duration)) * 1000;
const timeoutMs = Number(values['timeout-ms']);
const tag = values.tag ?? 'low';
if (!Number.isInteger(concurrency) || concurrency < 1 || !(durationMs > 0)) throw new Error('--concurrency must be a count and --duration positive');
const out = createWriteStream(need('out', values.out), { flags: 'a' });
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
const startMs = values['start-at'] ? Number(values['start-at']) : Date.now() + 200;
const endMs = startMs + durationMs;

/** One request, recorded when it ends (answer, failure or timeout). */
function once(): Promise<void> {
  return new Promise((resolve) => {
    const sent = Date.now();
    const traceparent = values.trace ? `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` : undefined;
    let seen: { cls?: string; trace?: string } = {};
    let bytes = 0;
    let finished = false;
    const finish = (status: number, replica: string | undefined, error?: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const rec: RequestRecord = {
        due: sent,
        latencyMs: Date.now() - sent,
        status,
        tag,
        bytes,
        ...(replica ? { replica } : {}),
        ...(error ? { error } : {}),
        ...(seen.cls !== undefined ? { seenClass: seen.cls } : {}),
        ...(traceparent !== undefined && status !== 0 ? { traceKept: traceKept(traceparent, seen.trace) } : {}),
      };
      out.write(`${JSON.stringify(rec)}\n`);
      resolve();
    };
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, agent, headers: { ...(values.service ? { host: values.service } : {}), ...(traceparent ? { traceparent } : {}) } },
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
  });
}

async function loop(): Promise<void> {
  // A failure is followed by a short pause, so a refusing path is not hammered in a tight loop.
  while (Date.now() < endMs) {
    const before = Date.now();
    await once();
    if (Date.now() - before < 5) await sleep(50);
  }
}

process.on('SIGTERM', () => out.end(() => process.exit(0)));
await sleep(Math.max(0, startMs - Date.now()));
await Promise.all(Array.from({ length: concurrency }, () => loop()));
out.end(() => process.exit(0));

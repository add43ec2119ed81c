// The open-loop load generator, run as its own process on a Mininet host (beside the client's
// sidecar): fixed request rate, every request timed from its due time, one JSON line per request.
//   node --import tsx labs/loadgen/main.ts --url http://127.0.0.1:15001/ --service web \
//        --rate 20 --duration 30 --tag all --out /path/requests.jsonl [--start-at <ms epoch>] [--trace]
// With --trace every request carries a fresh W3C traceparent, and the record says whether the
// last service hop saw it unchanged (x-meshflow-trace), next to the class it saw (x-meshflow-class).
import { createWriteStream } from 'node:fs';
import { Agent } from 'node:http';
import { parseArgs } from 'node:util';
import { timedRequest, type Target } from './request.ts';
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
if (!(rate > 0) || !(durationMs > 0)) throw new Error('--rate and --duration must be positive');
const out = createWriteStream(need('out', values.out), { flags: 'a' });
// One connection per request in flight: requests never queue behind each other in the client.
const target: Target = {
  url,
  ...(values.service ? { service: values.service } : {}),
  agent: new Agent({ keepAlive: true, maxSockets: Infinity }),
  timeoutMs: Number(values['timeout-ms']),
  tag: values.tag ?? 'all',
  trace: values.trace === true,
};
const total = totalRequests(rate, durationMs);
const startMs = values['start-at'] ? Number(values['start-at']) : Date.now() + 200;
let sent = 0;
let done = 0;

function fire(i: number): void {
  void timedRequest(target, dueTime(startMs, rate, i)).then((rec) => {
    out.write(`${JSON.stringify(rec)}\n`);
    done++;
    if (done === total) out.end(() => process.exit(0));
  });
}

// A 2 ms tick keeps send jitter small; a late tick sends everything that became due meanwhile.
const tick = setInterval(() => {
  const due = dueCount(startMs, rate, Date.now(), total);
  while (sent < due) fire(sent++);
  if (sent >= total) clearInterval(tick);
}, 2);

process.on('SIGTERM', () => out.end(() => process.exit(0)));

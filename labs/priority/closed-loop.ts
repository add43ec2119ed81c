// The batch class as a closed loop, run as its own process on the client host: `--concurrency`
// requests in flight, each followed by the next as soon as it ends, from --start-at for --duration
// seconds. An open-loop batch below the link's rate gets all it asks for whatever the network does,
// so its throughput cannot show what prioritisation takes from it; a closed loop takes what it is
// given, and its throughput can. Records as the open-loop generator writes them (loadgen/record.ts),
// `due` being the moment each request was sent.
//   node --import tsx labs/priority/closed-loop.ts --url http://127.0.0.1:15001/batch?size=400000 \
//        --service svc-a --concurrency 2 --duration 30 --tag low --out requests-low.jsonl --start-at <ms> [--trace]
import { createWriteStream } from 'node:fs';
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { timedRequest, type Target } from '../loadgen/request.ts';

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
if (!Number.isInteger(concurrency) || concurrency < 1 || !(durationMs > 0)) throw new Error('--concurrency must be a count and --duration positive');
const out = createWriteStream(need('out', values.out), { flags: 'a' });
const target: Target = {
  url,
  ...(values.service ? { service: values.service } : {}),
  agent: new Agent({ keepAlive: true, maxSockets: Infinity }),
  timeoutMs: Number(values['timeout-ms']),
  tag: values.tag ?? 'low',
  trace: values.trace === true,
};
const startMs = values['start-at'] ? Number(values['start-at']) : Date.now() + 200;
const endMs = startMs + durationMs;

/** One request, recorded when it ends (answer, failure or timeout); its latency counts from when it was sent. */
async function once(): Promise<void> {
  const rec = await timedRequest(target, Date.now());
  out.write(`${JSON.stringify(rec)}\n`);
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

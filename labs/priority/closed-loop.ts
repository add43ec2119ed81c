// The batch class as a closed loop, run as its own process on the client host: `--concurrency`
// requests in flight, each followed by the next as soon as it ends, from --start-at for --duration
// seconds. An open-loop batch below the link's rate gets all it asks for whatever the network does,
// so its throughput cannot show what prioritisation takes from it; a closed loop takes what it is
// given, and its throughput can. Records as the open-loop generator writes them (loadgen/record.ts),
// `due` being the moment each request was sent.
//   node --import tsx labs/priority/closed-loop.ts --url http://127.0.0.1:15001/batch?size=400000 \
//        --service svc-a --concurrency 2 --duration 30 --tag low --out requests-low.jsonl --start-at <ms> [--trace]
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { TARGET_FLAGS, targetFrom, timedRequest } from '../loadgen/request.ts';

const { values } = parseArgs({ options: { ...TARGET_FLAGS, concurrency: { type: 'string', default: '1' }, tag: { type: 'string', default: 'low' } } });
const { target, durationMs, out: outFile, startMs } = targetFrom(values, 'low');
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency must be a count');
const out = createWriteStream(outFile, { flags: 'a' });
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

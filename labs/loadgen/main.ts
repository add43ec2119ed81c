// The open-loop load generator, run as its own process on a Mininet host (beside the client's
// sidecar): fixed request rate, every request timed from its due time, one JSON line per request.
//   node --import tsx labs/loadgen/main.ts --url http://127.0.0.1:15001/ --service web \
//        --rate 20 --duration 30 --tag all --out /path/requests.jsonl [--start-at <ms epoch>] [--trace]
// With --trace every request carries a fresh W3C traceparent, and the record says whether the
// last service hop saw it unchanged (x-meshflow-trace), next to the class it saw (x-meshflow-class).
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { need, TARGET_FLAGS, targetFrom, timedRequest } from './request.ts';
import { dueCount, dueTime, totalRequests } from './schedule.ts';

const { values } = parseArgs({ options: { ...TARGET_FLAGS, rate: { type: 'string' }, tag: { type: 'string', default: 'all' } } });
const { target, durationMs, out: outFile, startMs } = targetFrom(values, 'all');
const rate = Number(need('rate', values.rate));
if (!(rate > 0)) throw new Error('--rate must be positive');
const out = createWriteStream(outFile, { flags: 'a' });
const total = totalRequests(rate, durationMs);
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

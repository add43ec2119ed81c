// The priority lab's closed-loop batch generator (labs/priority/closed-loop.ts), against a local
// server: it keeps exactly `concurrency` requests in flight, records every one as the open-loop
// generator does (class and trace check included), and stops issuing at the end of its duration.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseRecords } from '../../labs/loadgen/record.ts';

const run = promisify(execFile);

describe('labs: priority, closed-loop batch generator', function () {
  this.timeout(30_000);

  it('keeps `concurrency` requests in flight, records each with its class and trace check, and stops at the end', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const server = createServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Answers after a short while, so requests overlap when the generator keeps several going.
      setTimeout(() => {
        inFlight--;
        res.writeHead(200, { 'x-meshflow-class': 'low', 'x-meshflow-trace': String(req.headers['traceparent'] ?? '') }).end(Buffer.alloc(1000));
      }, 20);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const dir = await mkdtemp(join(tmpdir(), 'mf-closed-loop-'));
    try {
      const out = join(dir, 'r.jsonl');
      const { port } = server.address() as AddressInfo;
      await run(process.execPath, ['--import', 'tsx', 'labs/priority/closed-loop.ts', '--url', `http://127.0.0.1:${port}/batch`, '--concurrency', '3', '--duration', '1', '--tag', 'low', '--out', out, '--trace']);
      const recs = parseRecords(await readFile(out, 'utf8'));
      assert.ok(recs.length >= 6, `only ${recs.length} requests`);
      assert.equal(maxInFlight, 3, 'never more, and at some point exactly, the concurrency in flight');
      for (const r of recs) {
        assert.equal(r.status, 200);
        assert.equal(r.bytes, 1000);
        assert.equal(r.tag, 'low');
        assert.equal(r.seenClass, 'low');
        assert.equal(r.traceKept, true);
      }
      assert.equal(inFlight, 0, 'nothing left in flight once it exits');
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// Link capacity from the network itself, on a Mininet network built as users build theirs: with
// Mininet's Python API (capacity-net.py: the README's `mn --topo linear,2 --link tc,bw=8
// --switch ovs,datapath=user,protocols=OpenFlow13 --controller remote`, the shaping on the switch
// link only), a controller started without a topology file, and `meshflow hints` watching the
// bus as the README shows. The userspace datapath reports 10 Gb/s for every veth; the controller
// must take the 8 Mbit/s the TCLink set (source "tc"), call the filled direction congested within
// three polls and the idle one never, and follow a capacity PUT at once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startBroker, type EmbeddedBroker } from '../../bus/broker.ts';
import type { Assessment } from '../../controller/monitor/assess.ts';
import { runController, type RunningController } from '../../controller/run.ts';
import type { LinkView } from '../../controller/api/links.ts';
import { waitFor } from '../support/wait.ts';

const POLL_MS = 500;
const TOKEN = 'capacity-test-token';
const SCRIPT = fileURLToPath(new URL('./capacity-net.py', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The Python network, one JSON reply a line on its stdout. */
class PyNet {
  private readonly replies: Record<string, unknown>[] = [];
  private readonly waiters: ((r: Record<string, unknown>) => void)[] = [];
  private readonly lines: Interface;
  private constructor(readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! });
    this.lines.on('line', (line) => {
      const r = JSON.parse(line) as Record<string, unknown>;
      const w = this.waiters.shift();
      if (w) w(r);
      else this.replies.push(r);
    });
  }

  static start(runId: string, ofPort: number): PyNet {
    return new PyNet(spawn('/usr/bin/python3', [SCRIPT, runId, String(ofPort)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  }

  next(timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply from capacity-net.py')), timeoutMs);
      this.waiters.push((r) => {
        clearTimeout(t);
        resolve(r);
      });
    });
  }

  async send(line: string, timeoutMs?: number): Promise<Record<string, unknown>> {
    this.child.stdin!.write(`${line}\n`);
    const r = await this.next(timeoutMs);
    if (typeof r.error === 'string') throw new Error(`capacity-net.py: ${r.error}`);
    return r;
  }

  /** Asks it to stop and waits for its own cleanup; SIGTERM (which also cleans up) if it hangs. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end('stop\n');
    const t = setTimeout(() => this.child.kill('SIGTERM'), 30_000);
    await exited;
    clearTimeout(t);
  }
}

describe('link capacity from the network itself (Mininet Python API, no topology file)', function () {
  this.timeout(180_000);
  let broker: EmbeddedBroker;
  let running: RunningController;
  let net: PyNet;
  let hints: ChildProcess | undefined;
  const hintLines: string[] = [];
  const assessments: Assessment[] = [];
  const fwd = '0000000000000001:2-0000000000000002:2';
  const back = '0000000000000002:2-0000000000000001:2';

  const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${running.apiUrl}${path}`, {
      ...init,
      headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), authorization: `Bearer ${TOKEN}` },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const link = async (id: string): Promise<LinkView | undefined> => (await api<LinkView[]>('/api/v1/links')).body.find((l) => l.id === id);

  before(async function () {
    this.timeout(120_000);
    broker = await startBroker({ port: 0 });
    running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, lldpIntervalMs: 500, pollIntervalMs: POLL_MS, mqttUrl: broker.urlFor('controller'), apiToken: TOKEN });
    running.monitor.on('assessed', (a) => assessments.push(a));
    // What the README tells users to run next to their network; this controller is given no signing key, so unverified.
    hints = spawn(process.execPath, ['bin/meshflow.js', 'hints', '--mqtt-url', broker.urlFor('reader'), '--no-verify'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: hints.stdout! }).on('line', (l) => hintLines.push(l));
    net = PyNet.start(`cp${randomBytes(2).toString('hex')}`, running.ofPort);
    const ready = await net.next(90_000);
    assert.equal(ready.ready, true, JSON.stringify(ready));
    await waitFor('both switches', () => running.controller.switches.size === 2, { timeoutMs: 30_000 });
    await waitFor('both directions of the switch link', () => [fwd, back].every((id) => running.network.discovery.links.get(id)?.state === 'up'), { timeoutMs: 30_000 });
    const ping = await net.send('ping', 30_000);
    assert.equal(ping.ok, true, `h1 reaches h2: ${String(ping.output)}`);
  });

  after(async () => {
    await net?.stop();
    if (hints && hints.exitCode === null) {
      const gone = new Promise((r) => hints!.once('exit', r));
      hints.kill('SIGTERM');
      await gone;
    }
    await running?.stop();
    await broker?.stop();
  });

  it('takes the TCLink shaping (8 Mbit/s, source tc) over the port speed the userspace datapath reports', async () => {
    const port = running.controller.switches.get('0000000000000001')?.ports.get(2);
    assert.ok(port, 'switch 1 port 2');
    const views = await waitFor(
      'both directions at the shaping rate',
      async () => {
        const [f, b] = [await link(fwd), await link(back)];
        return f?.capacitySource === 'tc' && b?.capacitySource === 'tc' ? [f, b] : undefined;
      },
      { timeoutMs: 20_000 },
    );
    for (const v of views) assert.equal(v.capacityBps, 8_000_000, v.id);
    console.log(`      port speed reported by the switch: ${port.currSpeed * 1000} bit/s; capacity used: ${views[0]!.capacityBps} bit/s (${views[0]!.capacitySource})`);
  });

  it('calls the filled direction congested within three polls, the idle one never; a PUT changes the next assessment', async () => {
    const start = assessments.length;
    await net.send('iperf 12', 20_000);
    await waitFor('the filled direction congested', () => assessments.slice(start).some((a) => a.loads.get(fwd)?.level === 'congested'), { timeoutMs: 20_000 });
    const series = assessments.slice(start).map((a) => a.loads.get(fwd)!);
    const firstLoaded = series.findIndex((l) => l.sampleUtilization > 0.85);
    const firstCongested = series.findIndex((l) => l.level === 'congested');
    console.log(
      `      ${fwd}: first loaded sample at poll ${firstLoaded}, congested at poll ${firstCongested} (${firstCongested - firstLoaded + 1} polls); utilization ${series.map((l) => l.sampleUtilization.toFixed(2)).join(' ')}`,
    );
    assert.ok(firstLoaded >= 0 && firstCongested >= firstLoaded);
    assert.ok(firstCongested - firstLoaded <= 2, `congested ${firstCongested - firstLoaded + 1} polls after the load was seen`);
    const hint = await waitFor('meshflow hints to show it', () => hintLines.find((l) => l.includes(fwd) && l.includes('congested')), { timeoutMs: 10_000 });
    console.log(`      meshflow hints: ${hint}`);

    // Twice the shaping, set at run time: the very next assessment divides by it.
    const put = await api<LinkView>(`/api/v1/links/${fwd}/capacity`, { method: 'PUT', body: JSON.stringify({ rate: '16mbit' }) });
    assert.equal(put.status, 200);
    assert.deepEqual([put.body.capacityBps, put.body.capacitySource], [16_000_000, 'api']);
    const afterPut = assessments.length;
    const next = await waitFor('the next assessment', () => assessments[afterPut]);
    assert.equal(next.loads.get(fwd)?.capacityBps, 16_000_000);
    assert.equal(next.loads.get(fwd)?.capacitySource, 'api');
    const congestion = await api<{ linkId: string; capacitySource: string }[]>('/api/v1/congestion');
    assert.equal(congestion.body.find((l) => l.linkId === fwd)?.capacitySource, 'api', 'GET /api/v1/congestion says where the capacity came from');
    assert.ok((next.loads.get(fwd)?.sampleUtilization ?? 1) < 0.6, `utilization against 16 Mbit/s: ${next.loads.get(fwd)?.sampleUtilization}`);
    const del = await api<LinkView>(`/api/v1/links/${fwd}/capacity`, { method: 'DELETE' });
    assert.deepEqual([del.status, del.body.capacityBps, del.body.capacitySource], [200, 8_000_000, 'tc']);

    const done = await net.send('iperf-wait', 30_000);
    assert.equal(done.ok, true, String(done.output));
    for (const a of assessments) assert.notEqual(a.loads.get(back)?.level, 'congested', 'the idle direction is never congested');
    for (const a of assessments) for (const l of a.loads.values()) assert.ok(Number.isFinite(l.utilization) && Number.isFinite(l.rateBps), `${l.linkId}: finite figures`);
  });
});

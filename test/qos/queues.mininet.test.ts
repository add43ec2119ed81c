// Priority queues on a real Mininet network (OVS userspace datapath, root only): a high-priority
// intent makes the controller put HTB classes keyed on DSCP on the ports of its path, and then a
// rate-limited high-class transfer keeps its rate while sixteen low-class streams saturate the
// 10 Mbit/s link; before the intent, in one FIFO, it does not. Deleting the intent puts the port
// back to one class at its rate. The rates are the run's own, printed for the log.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runController, type RunningController } from '../../controller/run.ts';
import { networkOptionsFromTopology } from '../../controller/routing/network.ts';
import type { IntentView } from '../../controller/intents/view.ts';
import { HIGH_CLASSID } from '../../controller/qos/tc-commands.ts';
import { MininetNetwork } from '../../topologies/network.ts';
import { loadTopology } from '../../topologies/topology.ts';
import { waitFor } from '../support/wait.ts';

const run = promisify(execFile);
const TOPOLOGY = new URL('../../labs/priority/topology.json', import.meta.url).pathname;
const HIGH_PORT = 5202;
const LOW_PORT = 5201;
/** What the high class asks for: most of the link, so a FIFO shared with eight streams cannot give it. */
const HIGH_MBIT = 8;
const LOW_STREAMS = 16;

describe('qos: priority queues on Mininet (~60 s)', function () {
  this.timeout(180_000);
  const topo = loadTopology(TOPOLOGY);
  let running: RunningController | undefined;
  let net: MininetNetwork | undefined;
  /** s1's port towards s2: where a → b traffic queues. */
  let bottleneck = '';
  const pids: number[] = [];

  const ctx = (): { running: RunningController; net: MininetNetwork } => {
    assert.ok(running && net);
    return { running, net };
  };
  const ip = (host: string): string => ctx().net.hostInfo(host).ip.split('/')[0] as string;
  const classes = async (): Promise<string> => (await run('tc', ['class', 'show', 'dev', bottleneck])).stdout;

  async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${ctx().running.apiUrl}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async function iperfServer(port: number): Promise<void> {
    const { net } = ctx();
    pids.push(await net.spawn('b', `exec iperf3 -s -p ${port}`));
    await waitFor(`iperf3 on b:${port}`, async () => (await net.cmd('b', `ss -ltn 'sport = :${port}'`)).output.includes(`:${port}`), { timeoutMs: 10_000 });
  }

  /** The high class's received rate (Mbit/s) while many low-class streams run beside it. */
  async function highUnderLoad(): Promise<number> {
    const { net } = ctx();
    const low = await net.spawn('a', `exec iperf3 -c ${ip('b')} -p ${LOW_PORT} -t 14 -P ${LOW_STREAMS}`);
    try {
      // The low streams fill the queue first.
      await net.cmd('a', 'sleep 3');
      const r = await net.cmd('a', `iperf3 -c ${ip('b')} -p ${HIGH_PORT} -t 8 -b ${HIGH_MBIT}M -J`, { timeoutMs: 40_000 });
      const doc = JSON.parse(r.output.slice(r.output.indexOf('{'))) as { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
      const bps = doc.end?.sum_received?.bits_per_second;
      assert.ok(bps !== undefined, `iperf3 high: ${doc.error ?? r.output.slice(0, 300)}`);
      return bps / 1e6;
    } finally {
      await net.kill(low).catch(() => undefined);
      // Both iperf3 servers take one test at a time: wait until the low one is free again.
      await waitFor('low iperf3 test over', async () => !(await net.cmd('b', `ss -tn state established '( sport = :${LOW_PORT} )'`)).output.includes(`:${LOW_PORT}`), { timeoutMs: 15_000 });
    }
  }

  before(async function () {
    this.timeout(240_000);
    running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, lldpIntervalMs: 500, pollIntervalMs: 500, ...networkOptionsFromTopology(topo) });
    net = await MininetNetwork.start(topo, { controller: { host: '127.0.0.1', port: running.ofPort } });
    const { running: r, net: n } = ctx();
    await waitFor('every switch', () => r.controller.switches.size === topo.switches.length, { timeoutMs: 30_000 });
    await waitFor('the s1–s2 link', () => [...r.network.discovery.links.values()].filter((l) => l.state === 'up').length === 2, { timeoutMs: 30_000 });
    const link = n.ports().links.find((l) => l.a === 's1' && l.b === 's2');
    assert.ok(link);
    bottleneck = link.aIntf;
    const ping = await n.cmd('a', `ping -c 2 -i 0.2 -W 2 ${ip('b')}`, { timeoutMs: 20_000 });
    assert.equal(ping.code, 0, ping.output);
    await iperfServer(LOW_PORT);
    await iperfServer(HIGH_PORT);
  });

  after(async () => {
    try {
      for (const p of pids) await net?.kill(p).catch(() => undefined);
      await net?.stop();
    } finally {
      await running?.stop();
    }
  });

  it('the high class keeps its rate under saturating low traffic with the intent, not without', async () => {
    const { running } = ctx();
    assert.ok(running.queues, 'port queues are on by default');
    assert.ok(!(await classes()).includes(HIGH_CLASSID), 'no queues before any intent');
    const fifo = await highUnderLoad();

    const ids: string[] = [];
    for (const [dstPort, priority] of [[HIGH_PORT, 'high'], [LOW_PORT, 'low']] as const) {
      const c = await api<IntentView>('POST', '/api/v1/intents', { src: 'a', dst: 'b', policy: 'shortest', ipProto: 6, dstPort, priority });
      assert.equal(c.status, 201, JSON.stringify(c.body));
      ids.push(c.body.id);
    }
    await waitFor('queues on the bottleneck', async () => running.queues?.ports().has(bottleneck) && (await classes()).includes(HIGH_CLASSID), { timeoutMs: 10_000 });
    await running.queues?.settled();
    // Both directions of the path: b → a leaves s2 by its port towards s1.
    const back = ctx().net.ports().links.find((l) => l.a === 's1' && l.b === 's2')?.bIntf;
    assert.ok(back && running.queues?.ports().has(back));
    const queued = await highUnderLoad();
    process.stdout.write(`      high class under ${LOW_STREAMS} low streams: FIFO ${fifo.toFixed(2)} Mbit/s, queues ${queued.toFixed(2)} Mbit/s (asks ${HIGH_MBIT})\n`);
    const stats = await run('tc', ['-s', 'class', 'show', 'dev', bottleneck]);
    const highSent = Number(/class htb 1:10 [^\n]*\n\s*Sent \d+ bytes (\d+) pkt/.exec(stats.stdout)?.[1] ?? 0);
    // Proof that the DSCP filter classifies: full-size data packets went through the high class.
    assert.ok(highSent > 100, `the high class sent ${highSent} packets:\n${stats.stdout}`);
    // With queues the high class has 7 Mbit/s guaranteed and first claim on the rest; in one FIFO it
    // shares the queue with the low streams and loses packets with them.
    assert.ok(queued >= 0.65 * HIGH_MBIT, `with queues the high class got ${queued.toFixed(2)} Mbit/s of ${HIGH_MBIT}`);
    assert.ok(fifo < 0.6 * HIGH_MBIT && queued > 1.3 * fifo, `FIFO ${fifo.toFixed(2)} vs queues ${queued.toFixed(2)} Mbit/s`);

    for (const id of ids) assert.equal((await api('DELETE', `/api/v1/intents/${id}`)).status, 204);
    await waitFor('queues gone', async () => running.queues?.ports().size === 0 && !(await classes()).includes(HIGH_CLASSID), { timeoutMs: 10_000 });
    assert.match(await classes(), /class htb 5:1 root .*rate 10Mbit/, 'the link keeps its 10 Mbit/s shaping');
  });
});

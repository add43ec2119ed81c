// Delay probes on Mininet: two switches joined by a link shaped to 5 Mbit/s (tc HTB, Mininet's
// TCLink, default queue), the controller told the link carries 10 Mbit/s (twice the shaping) and
// not reading the shaping itself, so utilization never passes 50% and says nothing. An iperf3 flow
// fills the link: its queue grows, and the queueing-delay level must raise `congested` for that
// direction within a few polls; the reverse direction never. On the idle link, the measured one-way
// delay is small and no larger than half the hosts' ping round trip across the same link; with tc
// netem adding a known delay under the shaping, the probes measure that delay to within 1 ms.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runController, type RunningController } from '../../controller/run.ts';
import { edgePorts } from '../../controller/topology/snapshot.ts';
import { MininetNetwork } from '../../topologies/network.ts';
import type { Topology } from '../../topologies/topology.ts';
import type { Assessment } from '../../controller/monitor/assess.ts';
import type { HintBody } from '../../bus/hints.ts';
import { probeOverheadBps } from '../../controller/monitor/probes.ts';
import { waitFor } from '../support/wait.ts';

const run = promisify(execFile);
const POLL_MS = 500;
const NETEM_MS = 10;
const SHAPED_MBIT = 5;
const S1 = '00000000000000d1';
const S2 = '00000000000000d2';
const FORWARD = `${S1}:2-${S2}:2`;
const REVERSE = `${S2}:2-${S1}:2`;

const topology: Topology = {
  name: 'delay-pair',
  description: 'h1 - s1 =5 Mbit/s= s2 - h2',
  source: 'test/monitor/delay.mininet.test.ts',
  switches: [
    { name: 's1', dpid: S1 },
    { name: 's2', dpid: S2 },
  ],
  hosts: [
    { name: 'h1', ip: '10.0.0.1/24', mac: '00:00:00:00:0d:01', switch: 's1' },
    { name: 'h2', ip: '10.0.0.2/24', mac: '00:00:00:00:0d:02', switch: 's2' },
  ],
  links: [
    { a: 'h1', b: 's1', bw: 50, aPort: null, bPort: 1 },
    { a: 'h2', b: 's2', bw: 50, aPort: null, bPort: 1 },
    { a: 's1', b: 's2', bw: SHAPED_MBIT, aPort: 2, bPort: 2 },
  ],
};

describe('delay probes on a shaped Mininet link whose capacity the controller overestimates', function () {
  this.timeout(180_000);
  let running: RunningController;
  let net: MininetNetwork;
  const assessments: Assessment[] = [];
  const hints: HintBody[] = [];
  let idleMedian = 0;

  /** One-way delays of the forward direction from the next n assessments. */
  const nextDelays = async (n: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const seen = assessments.length;
      await waitFor('a fresh assessment', () => assessments.length > seen, { timeoutMs: 5000 });
      const d = assessments.at(-1)!.loads.get(FORWARD)?.delayMs;
      if (d !== undefined) out.push(d);
    }
    return out;
  };
  const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  before(async function () {
    this.timeout(240_000);
    const capacities = new Map([
      [`${S1}:2`, 2 * SHAPED_MBIT * 1e6],
      [`${S2}:2`, 2 * SHAPED_MBIT * 1e6],
    ]);
    running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, lldpIntervalMs: 500, pollIntervalMs: POLL_MS, capacities, readShaping: false });
    const publisher = running.publisher;
    const send = publisher.send.bind(publisher);
    publisher.send = (body) => {
      hints.push(body);
      return send(body);
    };
    running.monitor.on('assessed', (a) => assessments.push(a));
    net = await MininetNetwork.start(topology, { controller: { host: '127.0.0.1', port: running.ofPort } });
    await waitFor('both switches', () => running.controller.switches.size === 2, { timeoutMs: 30_000 });
    await waitFor('both link directions', () => [FORWARD, REVERSE].every((id) => running.network.discovery.links.get(id)?.state === 'up'), { timeoutMs: 30_000 });
    await waitFor('host ports settled', () => edgePorts(running.network.discovery.snapshot()).length >= 2, { timeoutMs: 30_000 });
  });

  after(async () => {
    await net?.stop();
    await running?.stop();
  });

  it('measures a small one-way delay on the idle link, within half the ping round trip', async () => {
    const ping = await net.cmd('h1', 'ping -c 20 -i 0.2 -W 2 10.0.0.2', { timeoutMs: 30_000 });
    assert.equal(ping.code, 0, ping.output);
    const rtts = [...ping.output.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).slice(2);
    const pingHalf = rtts.sort((a, b) => a - b)[Math.floor(rtts.length / 2)]! / 2;
    const prober = running.monitor.prober!;
    await waitFor('probe figures both ways', () => prober.figures(FORWARD) && prober.figures(REVERSE), { timeoutMs: 10_000 });
    const samples = await nextDelays(10);
    assert.ok(samples.length >= 8, `${samples.length} fresh samples`);
    idleMedian = median(samples);
    const c1 = prober.controlDelayMs(S1)!;
    const c2 = prober.controlDelayMs(S2)!;
    console.log(
      `      idle ${FORWARD}: one-way delay median ${idleMedian.toFixed(3)} ms (samples ${samples.map((s) => s.toFixed(2)).join(' ')}); ` +
        `ping RTT/2 median ${pingHalf.toFixed(3)} ms (h1→h2, three links, through both switches); control channel ${c1.toFixed(3)} / ${c2.toFixed(3)} ms; ` +
        `difference ${(idleMedian - pingHalf).toFixed(3)} ms`,
    );
    console.log(`      probe overhead: ${probeOverheadBps(POLL_MS)} bit/s per link direction at ${1000 / POLL_MS} probes/s = ${((probeOverheadBps(POLL_MS) / (SHAPED_MBIT * 1e6)) * 100).toFixed(3)}% of this ${SHAPED_MBIT} Mbit/s link`);
    assert.ok(idleMedian < 5, `idle one-way delay ${idleMedian} ms is small`);
    // A ping crosses the same link plus two host links and the switches' datapaths: its half is an upper bound, with slack for timing noise.
    assert.ok(idleMedian <= pingHalf + 1, `idle one-way delay ${idleMedian} ms within ping RTT/2 ${pingHalf} ms (+1 ms)`);
    assert.ok(prober.counters.received > 0 && prober.counters.foreign === 0 && prober.counters.malformed === 0);
    // No probe was learned as a host: only h1 and h2 are known.
    assert.equal(running.network.discovery.hosts.size, 2);
  });

  it(`measures a ${NETEM_MS} ms netem delay under the shaping to within 1 ms`, async function () {
    const intf = net.ports().links.find((l) => l.a === 's1' && l.b === 's2')!.aIntf;
    // Mininet's TCLink: HTB root 5:0, class 5:1 at the shaped rate; netem goes under that class.
    try {
      await run('tc', ['qdisc', 'add', 'dev', intf, 'parent', '5:1', 'handle', '10:', 'netem', 'delay', `${NETEM_MS}ms`]);
    } catch (err) {
      // Kernels without sch_netem: the queue check under iperf3 below compares with tc's own backlog instead.
      if (/unknown/i.test((err as Error).message)) return this.skip();
      throw err;
    }
    try {
      await nextDelays(3); // probes sent before the change
      const samples = await nextDelays(10);
      const m = median(samples);
      const error = m - idleMedian - NETEM_MS;
      console.log(`      with netem ${NETEM_MS} ms on ${intf}: one-way delay median ${m.toFixed(3)} ms (idle ${idleMedian.toFixed(3)}); error ${error.toFixed(3)} ms; samples ${samples.map((x) => x.toFixed(2)).join(' ')}`);
      assert.ok(Math.abs(error) < 1, `error ${error} ms`);
    } finally {
      await run('tc', ['qdisc', 'del', 'dev', intf, 'parent', '5:1', 'handle', '10:']);
    }
    await nextDelays(3);
  });

  it('raises congested from queueing delay for the filled direction within a few polls, never for the idle one', async () => {
    const server = await net.spawn('h2', 'iperf3 -s -1');
    await waitFor('iperf3 server', async () => (await net.cmd('h2', 'ss -ltn')).output.includes(':5201'));
    const startAt = assessments.length;
    const client = await net.spawn('h1', 'iperf3 -c 10.0.0.2 -t 12');
    const intf = net.ports().links.find((l) => l.a === 's1' && l.b === 's2')!.aIntf;
    const pairs: { probed: number; backlog: number }[] = [];
    try {
      await waitFor('the filled direction congested', () => assessments.at(-1)?.loads.get(FORWARD)?.level === 'congested', { timeoutMs: 20_000 });
      // tc's own figure: the bytes queued on the shaped interface, over the shaped rate, is the queueing delay a
      // frame joining now will see. Read beside each fresh probe figure while the flow lasts.
      for (let i = 0; i < 6; i++) {
        const seen = assessments.length;
        const { stdout } = await run('tc', ['-s', 'qdisc', 'show', 'dev', intf]);
        const backlog = Math.max(0, ...[...stdout.matchAll(/backlog (\d+)b/g)].map((m) => Number(m[1])));
        await waitFor('a fresh assessment', () => assessments.length > seen, { timeoutMs: 5000 });
        const probed = assessments.at(-1)!.loads.get(FORWARD)?.queueDelayMs;
        if (probed !== undefined) pairs.push({ probed, backlog: (backlog * 8 * 1000) / (SHAPED_MBIT * 1e6) });
      }
    } finally {
      await net.kill(client).catch(() => undefined);
      await net.kill(server).catch(() => undefined);
    }
    const series = assessments.slice(startAt).map((a) => a.loads.get(FORWARD)!);
    const firstLoaded = series.findIndex((l) => l.rateBps > 0.5 * SHAPED_MBIT * 1e6);
    const firstCongested = series.findIndex((l) => l.level === 'congested');
    const at = series[firstCongested]!;
    console.log(
      `      ${FORWARD} under iperf3: load seen at poll ${firstLoaded}, congested at poll ${firstCongested} ` +
        `(${firstCongested - firstLoaded + 1} polls of ${POLL_MS} ms); then utilization ${(at.utilization * 100).toFixed(1)}% of the given capacity, ` +
        `delay ${at.delayMs?.toFixed(1)} ms, baseline ${at.baseDelayMs?.toFixed(2)} ms, queueing ${at.queueDelayMs?.toFixed(1)} ms`,
    );
    const probedMedian = median(pairs.map((p) => p.probed));
    const backlogMedian = median(pairs.map((p) => p.backlog));
    console.log(
      `      queueing delay during the flow, probes vs tc backlog / rate: median ${probedMedian.toFixed(1)} vs ${backlogMedian.toFixed(1)} ms (` +
        pairs.map((p) => `${p.probed.toFixed(1)}/${p.backlog.toFixed(1)}`).join(' ') + ')',
    );
    assert.ok(pairs.length >= 4, 'probe figures during the flow');
    // Loose: TCP's queue saws up and down between the two readings, and backlog counts whole frames.
    assert.ok(probedMedian > 0.3 * backlogMedian && probedMedian < 3 * backlogMedian + 5, 'the probes see the queue tc reports');
    assert.ok(firstLoaded >= 0, 'the flow was seen');
    assert.ok(firstCongested - firstLoaded <= 3, `congested ${firstCongested - firstLoaded + 1} polls after the load`);
    assert.equal(at.delayLevel, 'congested', 'the delay level raised it');
    assert.ok(series.every((l) => l.utilization < 0.85), 'utilization alone never reached congestion');
    for (const a of assessments) assert.notEqual(a.loads.get(REVERSE)?.level, 'congested', 'the reverse direction is never congested');
    const states = hints.filter((h): h is Extract<HintBody, { kind: 'link_state' }> => h.kind === 'link_state' && h.linkId === FORWARD);
    // The level follows the smoothed queueing delay; a hint carries the latest figures, so a loose bound.
    assert.ok(
      states.some((h) => h.level === 'congested' && (h.queueDelayMs ?? 0) >= 5 && h.delayMs !== undefined && h.baseDelayMs !== undefined),
      `a link_state hint carries the congestion and its queueing delay: ${JSON.stringify(states.slice(-4))}`,
    );
    assert.ok(hints.some((h) => h.kind === 'event' && h.event === 'congestion_onset' && h.linkId === FORWARD));
  });
});

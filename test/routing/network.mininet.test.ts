// Discovery and forwarding against real Mininet networks of Open vSwitch bridges: links found in
// both directions, hosts found, every pair of hosts reaching each other, no broadcast storm in a
// loop, and recovery when a cable is pulled and put back.
import assert from 'node:assert/strict';
import type { RunningController } from '../../controller/run.ts';
import type { LinkView } from '../../controller/api/links.ts';
import type { HostView } from '../../controller/api/hosts.ts';
import type { PathView } from '../../controller/api/paths.ts';
import type { MininetNetwork } from '../../topologies/network.ts';
import type { Topology } from '../../topologies/topology.ts';
import { waitFor } from '../support/wait.ts';
import { startControlledNetwork, type ControlledNetwork } from '../support/mininet.ts';
import { dumpFlows, packetsOf, withCookie } from './flows.ts';
import { FORWARDING_COOKIE_TAG } from '../../controller/routing/forwarding.ts';

const LLDP_MS = 500;

async function get<T>(running: RunningController, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${running.apiUrl}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

/** The switch-to-switch links of a topology file, each direction as "<dpid>:<port>-<dpid>:<port>". */
function expectedDirections(net: MininetNetwork): Map<string, number> {
  const dpid = new Map(net.ports().switches.map((s) => [s.name, s.dpid]));
  const out = new Map<string, number>();
  for (const l of net.ports().links) {
    const a = dpid.get(l.a);
    const b = dpid.get(l.b);
    if (a === undefined || b === undefined || l.aPort === null || l.bPort === null) continue;
    out.set(`${a}:${l.aPort}-${b}:${l.bPort}`, l.bw * 1e6);
    out.set(`${b}:${l.bPort}-${a}:${l.aPort}`, l.bw * 1e6);
  }
  return out;
}

async function upLinks(running: RunningController): Promise<LinkView[]> {
  return (await get<LinkView[]>(running, '/api/v1/links')).body.filter((l) => l.state === 'up');
}

async function ping(net: MininetNetwork, from: string, to: string, count = 3): Promise<{ ok: boolean; output: string }> {
  const ip = net.hostInfo(to).ip.split('/')[0];
  const r = await net.cmd(from, `ping -c ${count} -i 0.2 -W 2 ${ip}`, { timeoutMs: 20_000 });
  return { ok: r.code === 0 && / 0% packet loss/.test(r.output), output: r.output };
}

function totalPacketIns(running: RunningController): number {
  return [...running.controller.switches.values()].reduce((n, s) => n + s.counters.packetIns, 0);
}

/**
 * Every host pings every other once, all hosts at the same time (one shell loop per host), so even
 * fat-tree-4's 240 ordered pairs take seconds. Returns the pairs that failed.
 */
async function pingAllPairs(net: MininetNetwork, hosts: readonly { name: string }[]): Promise<string[]> {
  const ips = hosts.map((h) => net.hostInfo(h.name).ip.split('/')[0]);
  const results = await Promise.all(
    hosts.map(async (h) => {
      const own = net.hostInfo(h.name).ip.split('/')[0];
      const targets = ips.filter((ip) => ip !== own).join(' ');
      const r = await net.cmd(h.name, `for ip in ${targets}; do ping -c1 -W3 $ip >/dev/null 2>&1 || echo "FAIL $ip"; done; true`, { timeoutMs: 120_000 });
      return [...r.output.matchAll(/FAIL (\S+)/g)].map((m) => `${h.name} → ${m[1]}`);
    }),
  );
  return results.flat();
}

/** Forwarding's rules on one switch that carried TCP packets. */
async function tcpPackets(net: MininetNetwork, sw: string): Promise<number> {
  return packetsOf(withCookie(await dumpFlows(net.bridgeOf(sw)), FORWARDING_COOKIE_TAG, 0xffn << 56n).filter((f) => /tcp/.test(f.text)));
}

function suite(name: 'linear-4' | 'diamond' | 'leaf-spine' | 'fat-tree-4', more: (ctx: () => { running: RunningController; net: MininetNetwork; topo: Topology }) => void): void {
  describe(`network on Mininet: ${name}`, function () {
    this.timeout(120_000);
    let cn: ControlledNetwork | undefined;

    before(async function () {
      // Building the network shares the machine with other runs: give it the builder's own deadline.
      this.timeout(240_000);
      cn = await startControlledNetwork(name, { lldpIntervalMs: LLDP_MS });
    });

    after(async () => {
      await cn?.stop();
    });

    const ctx = (): { running: RunningController; net: MininetNetwork; topo: Topology } => {
      assert.ok(cn);
      return cn;
    };

    it('discovers exactly the topology file\'s switch links, in both directions, with their bandwidths', async () => {
      const { running, net } = ctx();
      const expected = expectedDirections(net);
      const links = await waitFor('all link directions', async () => {
        const ls = await upLinks(running);
        return ls.length === expected.size ? ls : undefined;
      });
      assert.deepEqual(links.map((l) => l.id).sort(), [...expected.keys()].sort());
      for (const l of links) {
        assert.equal(l.capacityBps, expected.get(l.id), l.id);
        assert.equal(`${l.src.dpid}:${l.src.port}-${l.dst.dpid}:${l.dst.port}`, l.id);
      }
    });

    it('carries pings between every pair of hosts without losing one or storming the controller, and finds every host', async () => {
      const { running, net, topo } = ctx();
      await waitFor('links', async () => (await upLinks(running)).length === expectedDirections(net).size);
      const started = Date.now();
      const before = totalPacketIns(running);
      const failed = await pingAllPairs(net, topo.hosts);
      assert.deepEqual(failed, [], 'pairs that lost their ping');
      // Bounded packet-ins over the window: LLDP (one per link direction per interval), then per pair
      // a few (ARP, the first packet each way), never a storm that grows with time.
      const elapsed = Date.now() - started;
      const count = totalPacketIns(running) - before;
      const lldp = expectedDirections(net).size * Math.ceil(elapsed / LLDP_MS + 1);
      const pairs = topo.hosts.length * (topo.hosts.length - 1);
      assert.ok(count <= lldp + pairs * 6, `${count} packet-ins in ${elapsed} ms (LLDP alone ≈ ${lldp}, ${pairs} pairs)`);
      const hosts = (await get<HostView[]>(running, '/api/v1/hosts')).body;
      for (const h of topo.hosts) {
        const info = net.hostInfo(h.name);
        const seen = hosts.find((x) => x.mac === info.mac);
        assert.ok(seen, `${h.name} (${info.mac}) in ${JSON.stringify(hosts)}`);
        assert.equal(seen.name, h.name);
        assert.equal(seen.ipv4, info.ip.split('/')[0]);
        assert.equal(seen.dpid, net.ports().switches.find((s) => s.name === info.switch)?.dpid);
        assert.equal(seen.port, info.port);
      }
      assert.equal(hosts.length, topo.hosts.length, 'no host learned on a switch-to-switch port');
    });

    it('answers /paths hop by hop, and 400/404 for bad or unknown hosts', async () => {
      const { running, topo } = ctx();
      const [a, b] = [topo.hosts[0]!, topo.hosts[topo.hosts.length - 1]!];
      const ok = await get<PathView>(running, `/api/v1/paths?src=${a.name}&dst=${b.ip.split('/')[0]}`);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.src.name, a.name);
      assert.equal(ok.body.hops[0]?.inPort, running.network.findHost(a.name)?.at.port);
      assert.equal(ok.body.hops.at(-1)?.outPort, running.network.findHost(b.name)?.at.port);
      assert.equal(ok.body.links.length, ok.body.hops.length - 1);
      const missing = await get<{ error: string; message: string }>(running, `/api/v1/paths?src=${a.name}`);
      assert.equal(missing.status, 400);
      assert.match(missing.body.message, /"dst" is required/);
      const bad = await get<{ error: string }>(running, `/api/v1/paths?src=10.0.0.999&dst=${b.name}`);
      assert.equal(bad.status, 400);
      const unknown = await get<{ error: string }>(running, `/api/v1/paths?src=${a.name}&dst=h99`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error, 'unknown_host');
    });

    more(ctx);
  });
}

suite('linear-4', () => undefined);

suite('leaf-spine', (ctx) => {
  it('spreads TCP connections between the same two hosts over both spines (ECMP on real switches)', async () => {
    const { net } = ctx();
    const before = { sp1: await tcpPackets(net, 'sp1'), sp2: await tcpPackets(net, 'sp2') };
    const server = await net.spawn('h3', 'exec iperf3 -s -1 -p 5301');
    try {
      await waitFor('iperf3 listening', async () => (await net.cmd('h3', "ss -ltn 'sport = :5301'")).output.includes(':5301'), { timeoutMs: 10_000 });
      // 12 connections, each from its own source port: all on one spine has odds 2 in 4096.
      const r = await net.cmd('h1', `iperf3 -c ${net.hostInfo('h3').ip.split('/')[0]} -p 5301 -P 12 -t 2`, { timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.output);
    } finally {
      await net.kill(server).catch(() => undefined);
    }
    const grew = await waitFor('both spines to count TCP packets', async () => {
      const sp1 = (await tcpPackets(net, 'sp1')) - before.sp1;
      const sp2 = (await tcpPackets(net, 'sp2')) - before.sp2;
      return sp1 > 100 && sp2 > 100 ? { sp1, sp2 } : undefined;
    }, { timeoutMs: 10_000 });
    assert.ok(grew.sp1 > 100 && grew.sp2 > 100, JSON.stringify(grew));
  });
});

suite('fat-tree-4', () => undefined);

suite('diamond', (ctx) => {
  it('carries iperf3 at the shaped bandwidth through the controller\'s rules', async () => {
    const { running, net } = ctx();
    const server = await net.spawn('h3', 'exec iperf3 -s -1 -p 5401');
    let bps = 0;
    try {
      await waitFor('iperf3 listening', async () => (await net.cmd('h3', "ss -ltn 'sport = :5401'")).output.includes(':5401'), { timeoutMs: 10_000 });
      const r = await net.cmd('h1', `iperf3 -c ${net.hostInfo('h3').ip.split('/')[0]} -p 5401 -t 3 -J`, { timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.output);
      const report = JSON.parse(r.output.slice(r.output.indexOf('{'))) as { end: { sum_received: { bits_per_second: number } } };
      bps = report.end.sum_received.bits_per_second;
    } finally {
      await net.kill(server).catch(() => undefined);
    }
    // Fabric links are shaped to 10 Mbit/s (HTB): within 25% below that, and not above it.
    assert.ok(bps > 7.5e6 && bps < 10.5e6, `${(bps / 1e6).toFixed(2)} Mbit/s`);
    // Carried by the controller's rules (the bridges are fail-secure: nothing else could carry it).
    const path = (await get<PathView>(running, '/api/v1/paths?src=h1&dst=h3')).body;
    const middles = path.equalCostPaths.map((p) => p.hops[1]?.dpid);
    const names = new Map(net.ports().switches.map((s) => [s.dpid, s.name]));
    // OVS folds datapath counters into its rules every so often: wait for them.
    await waitFor('forwarding rules on the middle switches to count the TCP packets', async () => {
      const carried = await Promise.all(middles.map((d) => tcpPackets(net, names.get(d ?? '') ?? '')));
      return carried.reduce((x, y) => x + y, 0) > 1000;
    }, { timeoutMs: 10_000 });
  });

  it('keeps packet-ins bounded while hosts broadcast ARP in the loop (no storm)', async () => {
    const { running, net, topo } = ctx();
    await waitFor('links', async () => (await upLinks(running)).length === expectedDirections(net).size);
    const windowMs = 3000;
    const before = totalPacketIns(running);
    const started = Date.now();
    for (const h of topo.hosts) await net.cmd(h.name, 'ip neigh flush all');
    // Every host asks for every other: broadcasts that would circle s1-s2-s4-s3 forever if flooded on links.
    for (const a of topo.hosts) for (const b of topo.hosts) if (a !== b) assert.ok((await ping(net, a.name, b.name, 1)).ok, `${a.name} → ${b.name}`);
    const elapsed = Math.max(windowMs, Date.now() - started);
    await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, windowMs - (Date.now() - started))));
    const count = totalPacketIns(running) - before;
    // LLDP: one arrival per link direction per interval; then a few per ping (ARP, first packets).
    const lldp = expectedDirections(net).size * Math.ceil(elapsed / LLDP_MS + 1);
    const pairs = topo.hosts.length * (topo.hosts.length - 1);
    assert.ok(count <= lldp + pairs * 6, `${count} packet-ins in ${elapsed} ms (LLDP alone ≈ ${lldp})`);
  });

  it('reroutes around a link taken down, and rediscovers it when it comes back', async () => {
    const { running, net } = ctx();
    const path = (await get<PathView>(running, '/api/v1/paths?src=h1&dst=h3')).body;
    assert.equal(path.hops.length, 3, JSON.stringify(path));
    const dpidName = new Map(net.ports().switches.map((s) => [s.dpid, s.name]));
    const middle = dpidName.get(path.hops[1]!.dpid)!;
    const usedLink = path.links[0]!;
    const first = await ping(net, 'h1', 'h3');
    assert.ok(first.ok, first.output);

    await net.setLink('s1', middle, 'down');
    try {
      await waitFor('the link to go down', async () => !(await upLinks(running)).some((l) => l.id === usedLink), { timeoutMs: 10_000 });
      await waitFor('pings to recover', async () => (await ping(net, 'h1', 'h3', 1)).ok, { timeoutMs: 15_000 });
      const r = await ping(net, 'h1', 'h3', 5);
      assert.ok(r.ok, r.output);
      const after = (await get<PathView>(running, '/api/v1/paths?src=h1&dst=h3')).body;
      assert.equal(after.hops.length, 3);
      assert.notEqual(dpidName.get(after.hops[1]!.dpid), middle, 'the new path avoids the dead link');
      assert.ok(!after.links.includes(usedLink));
      assert.equal(after.equalCostPaths.length, 1);
    } finally {
      await net.setLink('s1', middle, 'up');
    }
    const reverse = usedLink.split('-').reverse().join('-');
    await waitFor('both directions rediscovered', async () => {
      const ids = new Set((await upLinks(running)).map((l) => l.id));
      return ids.has(usedLink) && ids.has(reverse);
    }, { timeoutMs: 15_000 });
    assert.equal((await get<PathView>(running, '/api/v1/paths?src=h1&dst=h3')).body.equalCostPaths.length, 2);
    assert.ok((await ping(net, 'h3', 'h1')).ok);
  });
});

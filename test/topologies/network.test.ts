// The Mininet builder against real Mininet and Open vSwitch (userspace datapath): build, forward,
// shape, fail links, tear down without a trace, and clean up after a crashed run.
import assert from 'node:assert/strict';
import { MininetNetwork } from '../../topologies/network.ts';
import { loadTopology } from '../../topologies/topology.ts';
import {
  assertRunGone,
  bridgesOf,
  interfacesOf,
  namespacesOf,
  pidAlive,
  sh,
  stateFileExists,
  until,
  vsctlGet,
} from './helpers.ts';

const IPERF_SECONDS = 5;

async function pings(net: MininetNetwork, from: string, to: string): Promise<boolean> {
  const ip = net.hostInfo(to).ip.split('/')[0] as string;
  return (await net.cmd(from, `ping -c1 -W1 ${ip}`)).code === 0;
}

describe('topologies: linear-4 on Mininet, standalone switches', function () {
  this.timeout(120_000);
  const topo = loadTopology('linear-4');
  let net: MininetNetwork | undefined;
  let started = 0;

  before(async () => {
    const t0 = Date.now();
    net = await MininetNetwork.start(topo, { failMode: 'standalone' });
    started = Date.now() - t0;
  });

  after(async () => {
    await net?.stop();
  });

  it('builds this run’s bridges: netdev datapath, OpenFlow13, dpids and port numbers from the file', async () => {
    const n = net as MininetNetwork;
    assert.match(n.runId, /^[a-z0-9]{4}$/);
    const expected = topo.switches.map((s) => n.bridgeOf(s.name)).sort();
    assert.deepEqual(await bridgesOf(n.runId), expected);
    for (const s of topo.switches) {
      const br = n.bridgeOf(s.name);
      assert.ok(br.length <= 15 && br.includes(n.runId));
      assert.equal(n.switchOf(br), s.name);
      assert.equal(await vsctlGet('Bridge', br, 'datapath_type'), 'netdev');
      assert.equal(await vsctlGet('Bridge', br, 'protocols'), '[OpenFlow13]');
      assert.equal(await vsctlGet('Bridge', br, 'fail_mode'), 'standalone');
      assert.equal(await vsctlGet('Bridge', br, 'other_config:datapath-id'), `"${s.dpid}"`);
    }
    for (const l of n.ports().links) {
      for (const [port, intf] of [
        [l.aPort, l.aIntf],
        [l.bPort, l.bIntf],
      ] as const) {
        if (port === null) continue;
        assert.ok(intf.includes(n.runId) && intf.length <= 15, intf);
        assert.equal(await vsctlGet('Interface', intf, 'ofport'), String(port));
      }
    }
    const h1 = n.hostInfo('h1');
    assert.deepEqual(
      { ip: h1.ip, mac: h1.mac, intf: h1.intf, switch: h1.switch, port: h1.port },
      { ip: '10.0.0.1/24', mac: '02:00:0a:00:00:01', intf: 'eth0', switch: 's1', port: 1 },
    );
    console.log(`      (linear-4 started in ${started} ms, run ${n.runId})`);
  });

  it('hosts have their address, MAC, and transmit checksum offload off', async () => {
    const n = net as MininetNetwork;
    const addr = await n.cmd('h2', 'ip -o addr show dev eth0; cat /sys/class/net/eth0/address');
    assert.match(addr.output, /inet 10\.0\.0\.2\/24/);
    assert.match(addr.output, /02:00:0a:00:00:02/);
    const offload = await n.cmd('h2', 'ethtool -k eth0 | grep "^tx-checksumming"');
    assert.match(offload.output, /tx-checksumming: off/);
  });

  it('pings between all host pairs lose nothing', async () => {
    const n = net as MininetNetwork;
    // Standalone switches forward at once; wait only for the far end to answer the first time.
    await until('h1 reaches h4', () => pings(n, 'h1', 'h4'));
    const names = topo.hosts.map((h) => h.name);
    const pairs = names.flatMap((a) => names.filter((b) => b !== a).map((b) => [a, b] as const));
    const results = await Promise.all(pairs.map(async ([a, b]) => [`${a}->${b}`, await pings(n, a, b)] as const));
    assert.deepEqual(results.filter(([, ok]) => !ok).map(([p]) => p), []);
  });

  it('iperf3 over the 10 Mbit/s switch links reaches roughly the shaped bandwidth', async () => {
    const n = net as MininetNetwork;
    const bottleneck = Math.min(...topo.links.map((l) => l.bw)); // switch links: 10 Mbit/s
    const server = await n.spawn('h4', 'exec iperf3 -s -1 -p 5201');
    await until('iperf3 listening on h4', async () => (await n.cmd('h4', 'ss -ltnH "sport = :5201"')).output.includes('5201'));
    const r = await n.cmd('h1', `iperf3 -c 10.0.0.4 -p 5201 -t ${IPERF_SECONDS} -J`, { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.output);
    const report = JSON.parse(r.output) as { end: { sum_received: { bits_per_second: number } } };
    const mbps = report.end.sum_received.bits_per_second / 1e6;
    console.log(`      (iperf3 h1->h4 over 3 shaped hops: ${mbps.toFixed(2)} Mbit/s of ${bottleneck})`);
    assert.ok(mbps >= 0.6 * bottleneck && mbps <= 1.3 * bottleneck, `${mbps} Mbit/s, shaped to ${bottleneck}`);
    await until('iperf3 server ends after one test', async () => !pidAlive(server));
  });

  it('a link taken down stops pings across it; brought up, they flow again', async () => {
    const n = net as MininetNetwork;
    await n.setLink('s2', 's3', 'down');
    try {
      await until('h1 no longer reaches h4', async () => !(await pings(n, 'h1', 'h4')));
      assert.ok(await pings(n, 'h1', 'h2'), 'the same side still talks');
      assert.ok(await pings(n, 'h3', 'h4'), 'the other side still talks');
    } finally {
      await n.setLink('s2', 's3', 'up');
    }
    await until('h1 reaches h4 again', () => pings(n, 'h1', 'h4'));
    // A host link too, named in either order.
    await n.setLink('s1', 'h1', 'down');
    try {
      assert.equal(await pings(n, 'h1', 'h2'), false);
    } finally {
      await n.setLink('h1', 's1', 'up');
    }
    await until('h1 reaches h2 again', () => pings(n, 'h1', 'h2'));
  });

  it('commands report exit codes; spawn and kill manage background processes; errors keep the builder serving', async () => {
    const n = net as MininetNetwork;
    assert.deepEqual(await n.cmd('h3', 'echo out; echo err >&2; exit 3'), { output: 'out\nerr\n', code: 3 });
    const pid = await n.spawn('h3', 'sleep 600');
    assert.ok(pidAlive(pid));
    const t0 = Date.now();
    await n.kill(pid); // right after spawn: SIGTERM must reach it, not the 5 s SIGKILL fallback
    assert.ok(Date.now() - t0 < 3000, `kill took ${Date.now() - t0} ms`);
    assert.equal(pidAlive(pid), false);
    // A spawned shell pipeline dies as a whole: kill() signals the process group.
    const group = await n.spawn('h3', 'sleep 600 | cat; echo never');
    await until('the pipeline runs', async () => (await n.cmd('h3', `pgrep -g ${group} -c`)).output.trim() === '3');
    await n.kill(group);
    assert.equal((await n.cmd('h3', `pgrep -g ${group} -c`)).output.trim(), '0');
    await assert.rejects(n.kill(pid), /was not spawned by this run/);
    await assert.rejects(n.setLink('s1', 's4', 'down'), /no link between s1 and s4/);
    await assert.rejects(n.cmd('h3', 'sleep 5', { timeoutMs: 300 }), /timed out after 300 ms/);
    assert.equal((await n.cmd('h3', 'true')).code, 0);
  });

  it('stop() leaves no bridge, interface, namespace or process of the run, and is idempotent', async () => {
    const n = net as MininetNetwork;
    const sleeper = await n.spawn('h2', 'sleep 600');
    assert.ok((await interfacesOf(n.runId)).length > 0);
    assert.equal((await namespacesOf(n.runId)).length, 4);
    const t0 = Date.now();
    await n.stop();
    console.log(`      (linear-4 stopped in ${Date.now() - t0} ms)`);
    await assertRunGone(n.runId);
    assert.equal(pidAlive(sleeper), false);
    await n.stop();
  });
});

describe('topologies: a crashed run is cleaned by the next start', function () {
  this.timeout(180_000);
  const nets: MininetNetwork[] = [];
  after(async () => {
    for (const n of nets) await n.stop();
  });

  it('kill -9 of the builder leaves resources that the next start removes', async () => {
    const crashed = await MininetNetwork.start('linear-4', { failMode: 'standalone' });
    nets.push(crashed);
    const sleeper = await crashed.spawn('h1', 'sleep 600');
    const pid = crashed.builderPid as number;
    process.kill(pid, 'SIGKILL');
    await until('the builder is gone', async () => !pidAlive(pid));
    // Nothing cleaned up after it: the crash really left something behind.
    assert.equal((await bridgesOf(crashed.runId)).length, 4);
    assert.ok(stateFileExists(crashed.runId));
    assert.ok(pidAlive(sleeper));

    const next = await MininetNetwork.start('linear-4', { failMode: 'standalone' });
    nets.push(next);
    assert.notEqual(next.runId, crashed.runId);
    await assertRunGone(crashed.runId);
    assert.equal(pidAlive(sleeper), false);
    assert.equal((await bridgesOf(next.runId)).length, 4, 'the new run is untouched');
    await next.stop();
    await assertRunGone(next.runId);
    await crashed.stop(); // idempotent on a dead builder
  });
});

describe('topologies: every shipped topology builds and stops cleanly (secure, nothing forwards)', function () {
  this.timeout(300_000);
  // diamond gets a controller address (nobody listens there: secure switches just keep trying).
  const CONTROLLER = { host: '127.0.0.1', port: 6699 };
  for (const name of ['diamond', 'leaf-spine', 'fat-tree-4']) {
    describe(name, () => {
      const topo = loadTopology(name);
      let net: MininetNetwork | undefined;
      after(async () => {
        await net?.stop();
      });

      it(`builds ${topo.switches.length} secure OpenFlow13 bridges with every port, then stops without a trace`, async () => {
        const t0 = Date.now();
        const controller = name === 'diamond' ? CONTROLLER : null;
        net = await MininetNetwork.start(topo, { controller });
        const built = Date.now() - t0;
        const bridges = await bridgesOf(net.runId);
        assert.equal(bridges.length, topo.switches.length);
        for (const s of topo.switches) {
          const br = net.bridgeOf(s.name);
          assert.equal(await vsctlGet('Bridge', br, 'fail_mode'), 'secure');
          assert.equal(await vsctlGet('Bridge', br, 'protocols'), '[OpenFlow13]');
          assert.equal(await vsctlGet('Bridge', br, 'datapath_type'), 'netdev');
          const target = (await sh('ovs-vsctl', 'get-controller', br)).trim();
          assert.equal(target, controller ? `tcp:${controller.host}:${controller.port}` : '');
          const degree = topo.links.filter((l) => l.a === s.name || l.b === s.name).length;
          const ports = (await vsctlGet('Bridge', br, 'ports')).split(',').length;
          assert.equal(ports, degree + 1, `${br}: its links plus the bridge's own port`);
        }
        const t1 = Date.now();
        await net.stop();
        console.log(`      (${name}: built in ${built} ms, stopped in ${Date.now() - t1} ms)`);
        await assertRunGone(net.runId);
      });
    });
  }
});

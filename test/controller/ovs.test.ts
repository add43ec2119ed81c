// The controller against a real Open vSwitch bridge (userspace datapath): handshake, ports, flows,
// counters, reconnects, and a garbage-speaking peer that must not disturb the real switch.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { runController, type RunningController } from '../../controller/run.ts';
import { OFPP_ANY, flowMod } from 'openflow-ts';
import type { SwitchView } from '../../controller/api/switches.ts';
import { TestBridge, cleanStale, ofctl, sh, vsctl, type TestHost } from '../support/ovs.ts';
import { waitFor } from '../support/wait.ts';

async function switches(running: RunningController): Promise<SwitchView[]> {
  const res = await fetch(`${running.apiUrl}/api/v1/switches`);
  assert.equal(res.status, 200);
  return (await res.json()) as SwitchView[];
}

function closed(socket: Socket): Promise<void> {
  // A socket only sees the peer's FIN once its data is consumed.
  socket.resume();
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    socket.once('close', () => resolve());
  });
}

describe('controller with a real Open vSwitch bridge', function () {
  this.timeout(60_000);
  let running: RunningController;
  let bridge: TestBridge;
  let dpid: string;

  before(async () => {
    await cleanStale();
    running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, echoIntervalMs: 1000 });
    bridge = await TestBridge.create({ controllerPort: running.ofPort, hosts: 2 });
    dpid = await bridge.dpid();
    await waitFor('the bridge to finish the handshake', () => running.controller.switches.get(dpid));
  });

  after(async () => {
    await bridge?.destroy();
    await running?.stop();
  });

  it('lists the bridge with the ports ovs-vsctl lists', async () => {
    const list = await switches(running);
    const sw = list.find((s) => s.dpid === dpid);
    assert.ok(sw, `switch ${dpid} in ${JSON.stringify(list.map((s) => s.dpid))}`);
    assert.match(sw.address, /^127\.0\.0\.1:\d+$/);
    assert.ok(!Number.isNaN(Date.parse(sw.connectedSince)));
    const ifaces = (await vsctl('list-ifaces', bridge.name)).trim().split('\n').sort();
    const expected = await Promise.all(
      ifaces.map(async (name) => ({
        name,
        ofport: Number((await vsctl('get', 'interface', name, 'ofport')).trim()),
        mac: (await vsctl('get', 'interface', name, 'mac_in_use')).trim().replace(/"/g, ''),
      })),
    );
    const portsByName = new Map(sw.ports.map((p) => [p.name, p]));
    for (const e of expected) {
      const p = portsByName.get(e.name);
      assert.ok(p, `port ${e.name} listed`);
      assert.equal(p.number, e.ofport);
      assert.equal(p.hwAddr, e.mac);
      assert.equal(p.state, 'up');
    }
    // Plus the bridge's own local port, which ovs-vsctl does not list as an interface of its own.
    assert.equal(sw.ports.length, expected.length + 1);
    assert.ok(portsByName.get(bridge.name)?.number === 'local');
  });

  it('installs the table-miss entry and flows it sends, as dump-flows shows', async () => {
    const session = running.controller.switches.get(dpid)!;
    const [a, b] = bridge.hosts as [TestHost, TestHost];
    await session.program(
      [
        [a, b],
        [b, a],
      ].map(([from, to]) =>
        flowMod({
          priority: 100,
          cookie: 0xc0ffeen,
          match: [{ field: 'in_port', value: from!.ofport }],
          instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: to!.ofport, maxLen: 0 }] }],
        }),
      ),
    );
    const flows = await ofctl('dump-flows', bridge.name);
    // Open vSwitch's userspace datapath has packets-per-second meters: the table-miss entry uses one.
    assert.ok(session.meters !== undefined, 'the bridge described its meters');
    assert.match(flows, /priority=0 actions=meter:1,CONTROLLER:65535/);
    assert.match(flows, new RegExp(`cookie=0xc0ffee.*priority=100,in_port=${a.ofport} actions=output:${b.ofport}`));
    assert.match(flows, new RegExp(`cookie=0xc0ffee.*priority=100,in_port=${b.ofport} actions=output:${a.ofport}`));
  });

  it('reads port counters that grow after traffic crosses the bridge', async () => {
    const session = running.controller.switches.get(dpid)!;
    const [a, b] = bridge.hosts;
    const before = await session.portStats(OFPP_ANY);
    const rxBefore = before.find((s) => s.portNo === a!.ofport)?.rxPackets ?? -1n;
    assert.ok(rxBefore >= 0n, 'port stats include the first host port');
    await bridge.inNs(a!, 'ping', ['-c', '5', '-i', '0.2', '-W', '2', b!.ip]);
    const after = await waitFor('counters to move', async () => {
      const stats = await session.portStats(a!.ofport);
      const s = stats.find((x) => x.portNo === a!.ofport);
      return s && s.rxPackets >= rxBefore + 5n ? s : undefined;
    });
    assert.ok(after.rxBytes > 0n);
    const bStats = (await session.portStats(b!.ofport)).find((x) => x.portNo === b!.ofport);
    assert.ok(bStats && bStats.txPackets >= 5n, 'the far port transmitted the pings');
  });

  it('tracks port status: a port taken down shows as down, and up again', async () => {
    const host = bridge.hosts[1]!;
    const stateOf = async () =>
      (await switches(running)).find((s) => s.dpid === dpid)?.ports.find((p) => p.name === host.bridgeIf)?.state;
    await sh('ip', ['link', 'set', host.bridgeIf, 'down']);
    await waitFor('the port to show as down', async () => (await stateOf()) === 'down');
    await sh('ip', ['link', 'set', host.bridgeIf, 'up']);
    await waitFor('the port to show as up', async () => (await stateOf()) === 'up');
  });

  it('refuses a peer that does not speak OpenFlow 1.3, with OFPT_ERROR HELLO_FAILED', async () => {
    const sock = connect(running.ofPort, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    // An OpenFlow 1.0 HELLO: version 1, type 0, length 8, xid 7.
    sock.write(Buffer.from([1, 0, 0, 8, 0, 0, 0, 7]));
    await closed(sock);
    const bytes = Buffer.concat(chunks);
    // Our HELLO first (version 4, type 0), then the error (type 1) for xid 7.
    assert.equal(bytes[0], 4);
    assert.equal(bytes[1], 0);
    const err = bytes.subarray(bytes.readUInt16BE(2));
    assert.equal(err[1], 1, 'OFPT_ERROR');
    assert.equal(err.readUInt32BE(4), 7);
    assert.equal(err.readUInt16BE(8), 0, 'OFPET_HELLO_FAILED');
    assert.equal(err.readUInt16BE(10), 0, 'OFPHFC_INCOMPATIBLE');
  });

  it('drops a peer speaking garbage while the real bridge stays connected', async () => {
    const session = running.controller.switches.get(dpid)!;
    const malformedBefore = running.controller.counters.malformed;
    const sock = connect(running.ofPort, '127.0.0.1');
    sock.on('error', () => undefined);
    sock.write(Buffer.from('GET / HTTP/1.1\r\nHost: nonsense\r\n\r\n'));
    await closed(sock);
    assert.ok(running.controller.counters.malformed > malformedBefore, 'the garbage was counted');
    assert.equal(running.controller.switches.get(dpid), session, 'the real session is untouched');
    const echo = await session.request({ type: 'echo_request', data: Buffer.from('still there') });
    assert.equal(echo.type, 'echo_reply');
    assert.ok((await switches(running)).some((s) => s.dpid === dpid));
  });

  it('sees the bridge again after the controller restarts', async () => {
    const port = running.ofPort;
    await running.stop();
    assert.equal((await ofctl('show', bridge.name)).length > 0, true);
    running = await runController({ ofHost: '127.0.0.1', ofPort: port, apiPort: 0, echoIntervalMs: 1000 });
    await waitFor('the bridge to reconnect', () => running.controller.switches.get(dpid), { timeoutMs: 20_000 });
    assert.ok((await switches(running)).some((s) => s.dpid === dpid));
  });
});

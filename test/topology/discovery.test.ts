// The discovery service over fake switches (no sockets, a virtual clock): links from LLDP carried
// across cables, hosts from ARP at settled edge ports, and what ports, switches and silence do to
// both. The tables underneath are the indexed stores; these tests watch them through the service.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../bus/clock.ts';
import { Discovery } from '../../controller/topology/discovery.ts';
import { edgePorts, isEdgePort } from '../../controller/topology/snapshot.ts';
import type { TopologyEvent } from '../../controller/topology/types.ts';
import { dp, ep, FakeFabric } from './fake-fabric.ts';

const H1 = '00:00:00:00:00:01';
const H3 = '00:00:00:00:00:03';

/** s1 —2/1— s2 —2/2— s3 (port 1 of s3 hosts h3), port 1 of s1 hosts h1; port 3 everywhere is free. */
function line(): { fabric: FakeFabric; clock: VirtualClock; discovery: Discovery; events: TopologyEvent[] } {
  const clock = new VirtualClock(0);
  const fabric = new FakeFabric();
  const discovery = new Discovery(fabric.controller, { clock, lldpIntervalMs: 1000, hostTimeoutMs: 10_000, keepDownLinksMs: 5000 });
  const events: TopologyEvent[] = [];
  discovery.on('topology', (e) => events.push(e));
  discovery.start();
  fabric.addSwitch(dp(1), [1, 2, 3]);
  fabric.addSwitch(dp(2), [1, 2, 3]);
  fabric.addSwitch(dp(3), [1, 2, 3]);
  fabric.cable(ep(1, 2), ep(2, 1));
  fabric.cable(ep(2, 2), ep(3, 2));
  fabric.deliver();
  return { fabric, clock, discovery, events };
}

const upIds = (d: Discovery): string[] => [...d.links.values()].filter((l) => l.state === 'up').map((l) => l.id).sort();
const key = (e: { dpid: string; port: number }): string => `${e.dpid.slice(-1)}:${e.port}`;

describe('topology: discovery service', () => {
  it('learns every link direction from LLDP and hosts at settled edge ports only', () => {
    const { fabric, clock, discovery } = line();
    assert.equal(upIds(discovery).length, 4);
    fabric.arp(ep(1, 1), H1, '10.0.0.1');
    assert.equal(discovery.hosts.size, 0, 'ports younger than the settle time teach nothing');
    clock.advance(1000);
    fabric.deliver();
    fabric.arp(ep(1, 1), H1, '10.0.0.1');
    fabric.arp(ep(2, 1), '00:00:00:00:00:99', '10.0.0.99');
    assert.deepEqual([...discovery.hosts.keys()], [H1], 'nothing is learned on a link port');
    assert.equal(discovery.hosts.byIp('10.0.0.1')?.mac, H1);
    assert.deepEqual(edgePorts(discovery.snapshot()).map(key).sort(), ['1:1', '1:3', '2:3', '3:1', '3:3']);
    assert.equal(discovery.paths.count(dp(1), dp(3)), 1);
  });

  it('proves the way back at once when a switch joins after its neighbour', () => {
    const clock = new VirtualClock(0);
    const fabric = new FakeFabric();
    const discovery = new Discovery(fabric.controller, { clock, lldpIntervalMs: 1000 });
    discovery.start();
    fabric.addSwitch(dp(1), [1, 2]);
    fabric.cable(ep(1, 2), ep(2, 1));
    assert.equal(fabric.deliver(), 0, "s1's probes find nobody yet");
    fabric.addSwitch(dp(2), [1, 2]);
    assert.equal(fabric.deliver(), 1, "s2's probe reaches s1");
    assert.deepEqual(upIds(discovery), ['0000000000000002:1-0000000000000001:2']);
    assert.equal(fabric.deliver(), 1, 's1 answers with a probe back, without waiting for its interval');
    assert.equal(upIds(discovery).length, 2);
    assert.equal(fabric.deliver(), 0, 'and no more: a known direction is not probed back');
  });

  it('forgets hosts seen on a port that LLDP later proves a link', () => {
    const { fabric, clock, discovery, events } = line();
    clock.advance(1000);
    fabric.deliver();
    fabric.arp(ep(3, 3), H3, '10.0.0.3');
    assert.ok(discovery.hosts.has(H3));
    // A cable is plugged into s3:3 from a new switch: its first LLDP shows the port is no edge.
    fabric.addSwitch(dp(4), [1]);
    fabric.cable(ep(4, 1), ep(3, 3));
    fabric.deliver();
    assert.equal(discovery.hosts.has(H3), false);
    assert.ok(events.some((e) => e.type === 'host_removed' && e.reason === 'port_is_link'));
    assert.equal(isEdgePort(discovery.snapshot(), ep(3, 3)), false);
  });

  it('takes both directions down with a port, makes it an edge port again, and probes it when it comes back', () => {
    const { fabric, clock, discovery, events } = line();
    clock.advance(1000);
    fabric.deliver();
    fabric.portDown(ep(2, 2));
    assert.deepEqual(
      events.filter((e) => e.type === 'link_down').map((e) => e.type === 'link_down' && e.reason),
      ['port_down', 'port_down'],
    );
    assert.equal(discovery.paths.count(dp(1), dp(3)), 0, 'no way through any more');
    assert.equal(isEdgePort(discovery.snapshot(), ep(3, 2)), true, "the far end's port has no link on it now");
    assert.equal(isEdgePort(discovery.snapshot(), ep(2, 2)), false, 'a down port is no edge');
    fabric.portUp(ep(2, 2));
    // A probe out of the port that came up, and one back from its peer, without waiting for the tick.
    assert.equal(fabric.deliver(), 2);
    assert.equal(upIds(discovery).length, 4);
    assert.equal(discovery.paths.count(dp(1), dp(3)), 1);
  });

  it('expires a direction whose LLDP stops arriving, and forgets it later', () => {
    const { fabric, clock, discovery } = line();
    fabric.silent.add('0000000000000001:2');
    for (let i = 0; i < 4; i++) {
      clock.advance(1000);
      fabric.deliver();
    }
    const gone = discovery.links.get('0000000000000001:2-0000000000000002:1');
    assert.equal(gone?.state, 'down');
    assert.equal(gone?.downReason, 'expired');
    assert.equal(discovery.links.get('0000000000000002:1-0000000000000001:2')?.state, 'up', 'the other direction still works');
    for (let i = 0; i < 6; i++) {
      clock.advance(1000);
      fabric.deliver();
    }
    assert.equal(discovery.links.has('0000000000000001:2-0000000000000002:1'), false);
  });

  it('drops the links of a switch that leaves, and expires silent hosts', () => {
    const { fabric, clock, discovery } = line();
    clock.advance(1000);
    fabric.deliver();
    fabric.arp(ep(1, 1), H1, '10.0.0.1');
    fabric.removeSwitch(dp(2));
    assert.deepEqual(upIds(discovery), []);
    assert.ok([...discovery.links.values()].every((l) => l.downReason === 'switch_down'));
    assert.equal(discovery.snapshot().switches.has(dp(2)), false);
    clock.advance(10_000);
    assert.equal(discovery.hosts.has(H1), true, 'not yet: silent for exactly the timeout');
    clock.advance(1000);
    assert.equal(discovery.hosts.size, 0);
    assert.equal(discovery.hosts.byIp('10.0.0.1'), undefined);
  });
});

// The pure topology tables: links per direction with expiry and drops, hosts with moves, and the
// derived graph with its equal-cost paths. Time is a number the test picks.
import assert from 'node:assert/strict';
import { dropPort, dropSwitch, emptyLinks, expireLinks, forgetDown, linkPorts, observeLink, upLinks, type LinkTable } from '../../controller/topology/links.ts';
import { emptyHosts, expireHosts, hostByIp, learnHost, removeHostsAt } from '../../controller/topology/hosts.ts';
import { buildGraph, equalCostPaths } from '../../controller/topology/graph.ts';
import { edgePorts, isEdgePort, type NetworkSnapshot } from '../../controller/topology/snapshot.ts';
import type { Endpoint, TopologyEvent } from '../../controller/topology/types.ts';

const ep = (n: number, port: number): Endpoint => ({ dpid: n.toString(16).padStart(16, '0'), port });
const dp = (n: number): string => n.toString(16).padStart(16, '0');
const kinds = (events: readonly TopologyEvent[]): string[] => events.map((e) => e.type);

/** Both directions of a cable, as two LLDP arrivals. */
function cable(t: LinkTable, a: Endpoint, b: Endpoint, now: number, bps = 1e9): LinkTable {
  return observeLink(observeLink(t, a, b, bps, now).state, b, a, bps, now).state;
}

describe('topology: link table', () => {
  it('learns each direction separately and raises link_up once per direction', () => {
    const s1 = observeLink(emptyLinks, ep(1, 1), ep(2, 1), 1e9, 0);
    assert.deepEqual(kinds(s1.events), ['link_up']);
    assert.equal(upLinks(s1.state).length, 1);
    const again = observeLink(s1.state, ep(1, 1), ep(2, 1), 1e9, 500);
    assert.deepEqual(again.events, [], 'a refresh is not news');
    assert.equal(again.state.get('0000000000000001:1-0000000000000002:1')?.lastSeen, 500);
    const back = observeLink(again.state, ep(2, 1), ep(1, 1), 1e9, 600);
    assert.deepEqual(kinds(back.events), ['link_up']);
    assert.equal(upLinks(back.state).length, 2);
    assert.equal(s1.state.size, 1, 'the input table is untouched');
  });

  it('expires a direction unheard for longer than the limit, and brings it back on the next LLDP', () => {
    let t = cable(emptyLinks, ep(1, 1), ep(2, 1), 0);
    t = observeLink(t, ep(1, 1), ep(2, 1), 1e9, 3000).state;
    const step = expireLinks(t, 3600, 3500);
    assert.deepEqual(step.events.map((e) => e.type === 'link_down' && [e.link.id, e.reason]), [['0000000000000002:1-0000000000000001:1', 'expired']]);
    assert.equal(upLinks(step.state).length, 1);
    const down = step.state.get('0000000000000002:1-0000000000000001:1');
    assert.equal(down?.state, 'down');
    const revived = observeLink(step.state, ep(2, 1), ep(1, 1), 1e9, 4000);
    assert.deepEqual(kinds(revived.events), ['link_up']);
    assert.equal(revived.state.get('0000000000000002:1-0000000000000001:1')?.since, 4000);
  });

  it('drops both directions at once on a port going down, and every link of a leaving switch', () => {
    let t = cable(emptyLinks, ep(1, 1), ep(2, 1), 0);
    t = cable(t, ep(2, 2), ep(3, 1), 0);
    const p = dropPort(t, ep(2, 1), 'port_down', 10);
    assert.deepEqual(p.events.map((e) => e.type === 'link_down' && e.reason), ['port_down', 'port_down']);
    assert.equal(upLinks(p.state).length, 2);
    const s = dropSwitch(t, dp(2), 10);
    assert.equal(s.events.length, 4);
    assert.equal(upLinks(s.state).length, 0);
    assert.deepEqual(dropSwitch(s.state, dp(2), 11).events, [], 'already down: nothing new');
  });

  it('replaces a recabled port: the old peer direction goes down', () => {
    const t = cable(emptyLinks, ep(1, 1), ep(2, 1), 0);
    const step = observeLink(t, ep(1, 1), ep(3, 5), 1e9, 100);
    assert.deepEqual(step.events.map((e) => (e.type === 'link_down' ? `down:${e.reason}` : e.type)), ['down:replaced', 'link_up']);
    assert.deepEqual(upLinks(step.state).map((l) => l.id).sort(), ['0000000000000001:1-0000000000000003:5', '0000000000000002:1-0000000000000001:1']);
  });

  it('forgets down links after a while and knows which ports carry links', () => {
    const t = dropPort(cable(emptyLinks, ep(1, 1), ep(2, 1), 0), ep(1, 1), 'port_deleted', 100).state;
    assert.equal(forgetDown(t, 150, 100).size, 2);
    assert.equal(forgetDown(t, 201, 100).size, 0);
    assert.deepEqual([...linkPorts(cable(emptyLinks, ep(1, 1), ep(2, 1), 0))].sort(), ['0000000000000001:1', '0000000000000002:1']);
    assert.equal(linkPorts(t).size, 0);
  });
});

describe('topology: host table', () => {
  const mac = '00:00:00:00:00:0a';

  it('adds a host, refreshes it quietly, and reports a move with where it came from', () => {
    const a = learnHost(emptyHosts, { mac, ipv4: '10.0.0.1', at: ep(1, 3) }, 0);
    assert.deepEqual(kinds(a.events), ['host_added']);
    const b = learnHost(a.state, { mac, at: ep(1, 3) }, 50);
    assert.deepEqual(b.events, []);
    assert.equal(b.state.get(mac)?.ipv4, '10.0.0.1', 'an observation without an address keeps the known one');
    assert.equal(b.state.get(mac)?.lastSeen, 50);
    const c = learnHost(b.state, { mac, ipv4: '10.0.0.1', at: ep(2, 4) }, 60);
    assert.equal(c.events.length, 1);
    const moved = c.events[0];
    assert.ok(moved?.type === 'host_moved');
    assert.deepEqual(moved.from, ep(1, 3));
    assert.deepEqual(moved.host.at, ep(2, 4));
    assert.equal(moved.host.firstSeen, 0);
  });

  it('gives an address to its newest claimant only', () => {
    let t = learnHost(emptyHosts, { mac, ipv4: '10.0.0.1', at: ep(1, 3) }, 0).state;
    t = learnHost(t, { mac: '00:00:00:00:00:0b', ipv4: '10.0.0.1', at: ep(1, 4) }, 10).state;
    assert.equal(hostByIp(t, '10.0.0.1')?.mac, '00:00:00:00:00:0b');
    assert.equal(t.get(mac)?.ipv4, undefined);
  });

  it('removes hosts seen on what turned out to be a link port, and silent hosts after a while', () => {
    let t = learnHost(emptyHosts, { mac, at: ep(1, 1) }, 0).state;
    t = learnHost(t, { mac: '00:00:00:00:00:0b', at: ep(1, 2) }, 100).state;
    const r = removeHostsAt(t, ep(1, 1));
    assert.deepEqual(r.events.map((e) => e.type === 'host_removed' && e.reason), ['port_is_link']);
    assert.deepEqual([...r.state.keys()], ['00:00:00:00:00:0b']);
    const e = expireHosts(t, 1050, 1000);
    assert.deepEqual([...e.state.keys()], ['00:00:00:00:00:0b']);
  });
});

describe('topology: graph and equal-cost paths', () => {
  // The diamond: s1 → {s2, s3} → s4, cabled on ports 1 and 2 as the topology file does.
  let diamond = cable(emptyLinks, ep(1, 1), ep(2, 1), 0);
  diamond = cable(diamond, ep(1, 2), ep(3, 1), 0);
  diamond = cable(diamond, ep(2, 2), ep(4, 1), 0);
  diamond = cable(diamond, ep(3, 2), ep(4, 2), 0);
  const switches = [1, 2, 3, 4].map(dp);

  it('finds both two-hop paths of the diamond, in a stable order', () => {
    const g = buildGraph(switches, diamond.values());
    const paths = equalCostPaths(g, dp(1), dp(4));
    assert.deepEqual(paths.map((p) => p.map((l) => `${l.src.dpid.slice(-1)}:${l.src.port}>${l.dst.dpid.slice(-1)}`)), [
      ['1:1>2', '2:2>4'],
      ['1:2>3', '3:2>4'],
    ]);
    assert.deepEqual(equalCostPaths(g, dp(1), dp(1)), [[]]);
  });

  it('routes around a down link, and finds nothing when cut off', () => {
    const cut = dropPort(diamond, ep(2, 2), 'port_down', 5).state;
    const g = buildGraph(switches, cut.values());
    assert.equal(equalCostPaths(g, dp(1), dp(4)).length, 1);
    const isolated = dropPort(cut, ep(3, 2), 'port_down', 5).state;
    assert.deepEqual(equalCostPaths(buildGraph(switches, isolated.values()), dp(1), dp(4)), []);
    assert.deepEqual(equalCostPaths(g, dp(1), dp(9)), [], 'unknown switch');
  });

  it('uses one direction only where only one is proven', () => {
    const oneWay = observeLink(emptyLinks, ep(1, 1), ep(2, 1), 1e9, 0).state;
    const g = buildGraph([dp(1), dp(2)], oneWay.values());
    assert.equal(equalCostPaths(g, dp(1), dp(2)).length, 1);
    assert.equal(equalCostPaths(g, dp(2), dp(1)).length, 0);
  });

  it('weights links when asked (a slow link loses its tie) and honours the limit', () => {
    const g = buildGraph(switches, diamond.values());
    const slow = equalCostPaths(g, dp(1), dp(4), { weight: (l) => (l.src.dpid === dp(3) ? 10 : 1) });
    assert.equal(slow.length, 1);
    assert.equal(slow[0]?.[0]?.dst.dpid, dp(2));
    assert.equal(equalCostPaths(g, dp(1), dp(4), { limit: 1 }).length, 1);
  });

  it('ignores links to switches that are not connected', () => {
    const g = buildGraph([dp(1), dp(3), dp(4)], diamond.values());
    assert.equal(equalCostPaths(g, dp(1), dp(4)).length, 1);
  });
});

describe('topology: edge ports', () => {
  const snap = (now: number): NetworkSnapshot => ({
    now,
    switches: new Map([
      [dp(1), [{ port: 1, upSince: 0, speedKbps: 1e6 }, { port: 2, upSince: 0, speedKbps: 1e6 }, { port: 3, upSince: 900, speedKbps: 1e6 }]],
      [dp(2), [{ port: 1, upSince: 0, speedKbps: 1e6 }, { port: 2, upSince: 0, speedKbps: 1e6 }]],
    ]),
    links: cable(emptyLinks, ep(1, 1), ep(2, 1), 0),
    hosts: emptyHosts,
    settleMs: 1000,
  });

  it('are the settled ports without links', () => {
    assert.deepEqual(edgePorts(snap(1000)), [ep(1, 2), ep(2, 2)]);
    assert.deepEqual(edgePorts(snap(1900)), [ep(1, 2), ep(1, 3), ep(2, 2)]);
    assert.equal(isEdgePort(snap(1000), ep(1, 1)), false, 'a link port');
    assert.equal(isEdgePort(snap(1000), ep(1, 3)), false, 'not settled yet');
    assert.equal(isEdgePort(snap(1900), ep(1, 3)), true);
    assert.equal(isEdgePort(snap(1900), ep(1, 9)), false, 'unknown port');
  });
});

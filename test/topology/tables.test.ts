// The topology tables: links per direction with expiry and drops, hosts with moves, the derived
// graph with its equal-cost paths, and edge ports. Planners read a store and return a step; the
// store changes when the step is applied. Time is a number the test picks.
import assert from 'node:assert/strict';
import { dropPort, dropSwitch, expireLinks, forgetDown, LinkStore, observeLink, upLinks, type LinkStep } from '../../controller/topology/links.ts';
import { expireHosts, HostStore, learnHost, removeHostsAt, type HostStep } from '../../controller/topology/hosts.ts';
import { buildGraph, equalCostPaths } from '../../controller/topology/graph.ts';
import { edgePorts, isEdgePort } from '../../controller/topology/snapshot.ts';
import { TopologyState } from '../../controller/topology/state.ts';
import type { Endpoint, TopologyEvent } from '../../controller/topology/types.ts';

const ep = (n: number, port: number): Endpoint => ({ dpid: n.toString(16).padStart(16, '0'), port });
const dp = (n: number): string => n.toString(16).padStart(16, '0');
const kinds = (events: readonly TopologyEvent[]): string[] => events.map((e) => e.type);

/** Applies a step and hands it back, for its events. */
function applied(t: LinkStore, step: LinkStep): LinkStep;
function applied(t: HostStore, step: HostStep): HostStep;
function applied(t: LinkStore | HostStore, step: LinkStep | HostStep): LinkStep | HostStep {
  if (t instanceof LinkStore) t.apply(step as LinkStep);
  else t.apply(step as HostStep);
  return step;
}

/** Both directions of a cable, as two LLDP arrivals. */
function cable(t: LinkStore, a: Endpoint, b: Endpoint, now: number, bps = 1e9): LinkStore {
  t.apply(observeLink(t, a, b, bps, now));
  t.apply(observeLink(t, b, a, bps, now));
  return t;
}

describe('topology: link table', () => {
  it('learns each direction separately and raises link_up once per direction', () => {
    const t = new LinkStore();
    const s1 = observeLink(t, ep(1, 1), ep(2, 1), 1e9, 0);
    assert.equal(t.size, 0, 'a planner leaves the store as it was until its step is applied');
    t.apply(s1);
    assert.deepEqual(kinds(s1.events), ['link_up']);
    assert.equal(upLinks(t).length, 1);
    const again = applied(t, observeLink(t, ep(1, 1), ep(2, 1), 1e9, 500));
    assert.deepEqual(again.events, [], 'a refresh is not news');
    assert.equal(t.get('0000000000000001:1-0000000000000002:1')?.lastSeen, 500);
    const back = applied(t, observeLink(t, ep(2, 1), ep(1, 1), 1e9, 600));
    assert.deepEqual(kinds(back.events), ['link_up']);
    assert.equal(upLinks(t).length, 2);
    assert.deepEqual([...t.from(ep(1, 1))].map((l) => l.id), ['0000000000000001:1-0000000000000002:1']);
    assert.deepEqual([...t.into(ep(1, 1))].map((l) => l.id), ['0000000000000002:1-0000000000000001:1']);
  });

  it('expires a direction unheard for longer than the limit, and brings it back on the next LLDP', () => {
    const t = cable(new LinkStore(), ep(1, 1), ep(2, 1), 0);
    t.apply(observeLink(t, ep(1, 1), ep(2, 1), 1e9, 3000));
    const step = applied(t, expireLinks(t, 3600, 3500));
    assert.deepEqual(step.events.map((e) => e.type === 'link_down' && [e.link.id, e.reason]), [['0000000000000002:1-0000000000000001:1', 'expired']]);
    assert.equal(upLinks(t).length, 1);
    const down = t.get('0000000000000002:1-0000000000000001:1');
    assert.equal(down?.state, 'down');
    assert.deepEqual(expireLinks(t, 3600, 3500).events, [], 'expired once');
    const revived = applied(t, observeLink(t, ep(2, 1), ep(1, 1), 1e9, 4000));
    assert.deepEqual(kinds(revived.events), ['link_up']);
    assert.equal(t.get('0000000000000002:1-0000000000000001:1')?.since, 4000);
  });

  it('expires in the order links were last proven, whatever order they were learned in', () => {
    const t = cable(new LinkStore(), ep(1, 1), ep(2, 1), 0);
    cable(t, ep(2, 2), ep(3, 1), 0);
    // The first cable is refreshed late: the second one's directions are now the stalest.
    cable(t, ep(1, 1), ep(2, 1), 2000);
    const step = expireLinks(t, 3000, 2500);
    assert.deepEqual(step.events.map((e) => e.type === 'link_down' && e.link.id).sort(), ['0000000000000002:2-0000000000000003:1', '0000000000000003:1-0000000000000002:2']);
  });

  it('drops both directions at once on a port going down, and every link of a leaving switch', () => {
    const t = cable(new LinkStore(), ep(1, 1), ep(2, 1), 0);
    cable(t, ep(2, 2), ep(3, 1), 0);
    const s = t.clone();
    const p = applied(t, dropPort(t, ep(2, 1), 'port_down', 10));
    assert.deepEqual(p.events.map((e) => e.type === 'link_down' && e.reason), ['port_down', 'port_down']);
    assert.equal(upLinks(t).length, 2);
    const sw = applied(s, dropSwitch(s, dp(2), 10));
    assert.equal(sw.events.length, 4);
    assert.equal(upLinks(s).length, 0);
    assert.deepEqual(dropSwitch(s, dp(2), 11).events, [], 'already down: nothing new');
  });

  it('replaces a recabled port: the old peer direction goes down', () => {
    const t = cable(new LinkStore(), ep(1, 1), ep(2, 1), 0);
    const step = applied(t, observeLink(t, ep(1, 1), ep(3, 5), 1e9, 100));
    assert.deepEqual(step.events.map((e) => (e.type === 'link_down' ? `down:${e.reason}` : e.type)), ['down:replaced', 'link_up']);
    assert.deepEqual(upLinks(t).map((l) => l.id).sort(), ['0000000000000001:1-0000000000000003:5', '0000000000000002:1-0000000000000001:1']);
  });

  it('forgets down links after a while and knows which ports carry links', () => {
    const t = cable(new LinkStore(), ep(1, 1), ep(2, 1), 0);
    assert.equal(t.isLinkPort(ep(1, 1)), true);
    assert.equal(t.isLinkPort(ep(2, 1)), true);
    assert.equal(t.isLinkPort(ep(1, 2)), false);
    t.apply(dropPort(t, ep(1, 1), 'port_deleted', 100));
    assert.equal(t.isLinkPort(ep(1, 1)), false, 'no live direction through it');
    assert.equal(t.isLinkPort(ep(2, 1)), false);
    assert.deepEqual(forgetDown(t, 150, 100).changes, []);
    t.apply(forgetDown(t, 201, 100));
    assert.equal(t.size, 0);
    assert.deepEqual([...t.from(ep(1, 1))], [], 'and out of every index');
    assert.deepEqual([...t.ofSwitch(dp(1))], []);
  });

  it('keeps a port a link port while either direction through it is up', () => {
    const t = cable(new LinkStore(), ep(1, 1), ep(2, 1), 0);
    t.apply(observeLink(t, ep(1, 1), ep(2, 1), 1e9, 3000));
    t.apply(expireLinks(t, 3600, 3500));
    assert.equal(t.isLinkPort(ep(1, 1)), true);
    assert.equal(t.isLinkPort(ep(2, 1)), true);
  });
});

describe('topology: host table', () => {
  const mac = '00:00:00:00:00:0a';

  it('adds a host, refreshes it quietly, and reports a move with where it came from', () => {
    const t = new HostStore();
    const a = learnHost(t, { mac, ipv4: '10.0.0.1', at: ep(1, 3) }, 0);
    assert.equal(t.size, 0, 'a planner leaves the store as it was until its step is applied');
    t.apply(a);
    assert.deepEqual(kinds(a.events), ['host_added']);
    const b = applied(t, learnHost(t, { mac, at: ep(1, 3) }, 50));
    assert.deepEqual(b.events, []);
    assert.equal(t.get(mac)?.ipv4, '10.0.0.1', 'an observation without an address keeps the known one');
    assert.equal(t.get(mac)?.lastSeen, 50);
    const c = applied(t, learnHost(t, { mac, ipv4: '10.0.0.1', at: ep(2, 4) }, 60));
    assert.equal(c.events.length, 1);
    const moved = c.events[0];
    assert.ok(moved?.type === 'host_moved');
    assert.deepEqual(moved.from, ep(1, 3));
    assert.deepEqual(moved.host.at, ep(2, 4));
    assert.equal(moved.host.firstSeen, 0);
    assert.deepEqual([...t.attachedAt(ep(1, 3))], [], 'the old port no longer lists it');
    assert.deepEqual([...t.attachedAt(ep(2, 4))].map((h) => h.mac), [mac]);
  });

  it('gives an address to its newest claimant only', () => {
    const t = new HostStore();
    t.apply(learnHost(t, { mac, ipv4: '10.0.0.1', at: ep(1, 3) }, 0));
    t.apply(learnHost(t, { mac: '00:00:00:00:00:0b', ipv4: '10.0.0.1', at: ep(1, 4) }, 10));
    assert.equal(t.byIp('10.0.0.1')?.mac, '00:00:00:00:00:0b');
    assert.equal(t.get(mac)?.ipv4, undefined);
    // The first host comes back with a new address; the old one stays with its new holder.
    t.apply(learnHost(t, { mac, ipv4: '10.0.0.9', at: ep(1, 3) }, 20));
    assert.equal(t.byIp('10.0.0.9')?.mac, mac);
    assert.equal(t.byIp('10.0.0.1')?.mac, '00:00:00:00:00:0b');
    // A host that changes address gives up the old one.
    t.apply(learnHost(t, { mac, ipv4: '10.0.0.8', at: ep(1, 3) }, 30));
    assert.equal(t.byIp('10.0.0.9'), undefined);
  });

  it('removes hosts seen on what turned out to be a link port, and silent hosts after a while', () => {
    const t = new HostStore();
    t.apply(learnHost(t, { mac, at: ep(1, 1) }, 0));
    t.apply(learnHost(t, { mac: '00:00:00:00:00:0b', at: ep(1, 2) }, 100));
    const u = t.clone();
    const r = applied(t, removeHostsAt(t, ep(1, 1)));
    assert.deepEqual(r.events.map((e) => e.type === 'host_removed' && e.reason), ['port_is_link']);
    assert.deepEqual([...t.keys()], ['00:00:00:00:00:0b']);
    u.apply(expireHosts(u, 1050, 1000));
    assert.deepEqual([...u.keys()], ['00:00:00:00:00:0b']);
  });

  it('expires hosts by when they were last seen, not when they were first learned', () => {
    const t = new HostStore();
    t.apply(learnHost(t, { mac, at: ep(1, 1) }, 0));
    t.apply(learnHost(t, { mac: '00:00:00:00:00:0b', at: ep(1, 2) }, 100));
    t.apply(learnHost(t, { mac, at: ep(1, 1) }, 900));
    const e = expireHosts(t, 1150, 1000);
    assert.deepEqual(e.events.map((ev) => ev.type === 'host_removed' && ev.host.mac), ['00:00:00:00:00:0b']);
    // Taking an address away from a host is not a sighting of it: it keeps its place.
    t.apply(learnHost(t, { mac: '00:00:00:00:00:0b', ipv4: '10.0.0.1', at: ep(1, 2) }, 950));
    t.apply(learnHost(t, { mac: '00:00:00:00:00:0c', ipv4: '10.0.0.1', at: ep(1, 3) }, 960));
    assert.deepEqual([...t.byAge()].map((h) => h.mac), [mac, '00:00:00:00:00:0b', '00:00:00:00:00:0c']);
  });
});

describe('topology: graph and equal-cost paths', () => {
  // The diamond: s1 → {s2, s3} → s4, cabled on ports 1 and 2 as the topology file does.
  const diamond = cable(new LinkStore(), ep(1, 1), ep(2, 1), 0);
  cable(diamond, ep(1, 2), ep(3, 1), 0);
  cable(diamond, ep(2, 2), ep(4, 1), 0);
  cable(diamond, ep(3, 2), ep(4, 2), 0);
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
    const cut = diamond.clone();
    cut.apply(dropPort(cut, ep(2, 2), 'port_down', 5));
    const g = buildGraph(switches, cut.values());
    assert.equal(equalCostPaths(g, dp(1), dp(4)).length, 1);
    cut.apply(dropPort(cut, ep(3, 2), 'port_down', 5));
    assert.deepEqual(equalCostPaths(buildGraph(switches, cut.values()), dp(1), dp(4)), []);
    assert.deepEqual(equalCostPaths(g, dp(1), dp(9)), [], 'unknown switch');
  });

  it('uses one direction only where only one is proven', () => {
    const oneWay = new LinkStore();
    oneWay.apply(observeLink(oneWay, ep(1, 1), ep(2, 1), 1e9, 0));
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

describe('topology: state, edge ports and paths', () => {
  function state(): TopologyState {
    const s = new TopologyState(1000);
    s.switchUp(dp(1), [{ port: 1, upSince: 0, speedKbps: 1e6 }, { port: 2, upSince: 0, speedKbps: 1e6 }, { port: 3, upSince: 900, speedKbps: 1e6 }]);
    s.switchUp(dp(2), [{ port: 1, upSince: 0, speedKbps: 1e6 }, { port: 2, upSince: 0, speedKbps: 1e6 }]);
    s.applyLinks(observeLink(s.links, ep(1, 1), ep(2, 1), 1e9, 0));
    s.applyLinks(observeLink(s.links, ep(2, 1), ep(1, 1), 1e9, 0));
    return s;
  }
  const sorted = (e: Endpoint[]): Endpoint[] => [...e].sort((a, b) => a.dpid.localeCompare(b.dpid) || a.port - b.port);

  it('are the settled ports without links', () => {
    const s = state();
    assert.deepEqual(sorted(edgePorts(s.view(1000))), [ep(1, 2), ep(2, 2)]);
    assert.deepEqual(sorted(edgePorts(s.view(1900))), [ep(1, 2), ep(1, 3), ep(2, 2)]);
    assert.equal(isEdgePort(s.view(1000), ep(1, 1)), false, 'a link port');
    assert.equal(isEdgePort(s.view(1000), ep(1, 3)), false, 'not settled yet');
    assert.equal(isEdgePort(s.view(1900), ep(1, 3)), true);
    assert.equal(isEdgePort(s.view(1900), ep(1, 9)), false, 'unknown port');
  });

  it('follow links and ports as they come and go', () => {
    const s = state();
    s.applyLinks(dropPort(s.links, ep(1, 1), 'port_down', 2000));
    assert.equal(isEdgePort(s.view(2000), ep(1, 1)), true, 'no live link on it any more');
    s.portDown(ep(1, 1));
    assert.equal(isEdgePort(s.view(2000), ep(1, 1)), false, 'the port itself is down');
    s.portUp(dp(1), { port: 1, upSince: 2100, speedKbps: 1e6 });
    assert.equal(isEdgePort(s.view(3200), ep(1, 1)), true);
    s.applyLinks(observeLink(s.links, ep(1, 1), ep(2, 1), 1e9, 3300));
    assert.equal(isEdgePort(s.view(3300), ep(1, 1)), false, 'a link again');
    s.switchDown(dp(2));
    assert.equal(isEdgePort(s.view(3300), ep(2, 2)), false, 'its switch left');
  });

  it('keeps shortest paths current through link and switch changes', () => {
    const s = state();
    assert.equal(s.paths.count(dp(1), dp(2)), 1);
    s.applyLinks(dropPort(s.links, ep(1, 1), 'port_down', 2000));
    assert.equal(s.paths.count(dp(1), dp(2)), 0, 'the link went down');
    s.applyLinks(observeLink(s.links, ep(1, 1), ep(2, 1), 1e9, 3000));
    assert.equal(s.paths.count(dp(1), dp(2)), 1, 'and came back');
    // A refresh changes no path and keeps the tables.
    const version = s.paths.version;
    s.applyLinks(observeLink(s.links, ep(1, 1), ep(2, 1), 1e9, 3500));
    assert.equal(s.paths.version, version);
    s.switchDown(dp(1));
    assert.equal(s.paths.count(dp(1), dp(2)), 0, 'no way out of a switch that left');
  });
});

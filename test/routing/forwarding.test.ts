// The forwarding planner, faucet-style: feed packet-ins and topology events to the pure functions,
// apply the changes they return to a flow table and the programs to a fake data plane, and ask
// where packets go.
import assert from 'node:assert/strict';
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IPV4,
  IP_PROTO_ICMP,
  IP_PROTO_TCP,
  ARP_REPLY,
  arpRequest,
  buildArp,
  buildEthernet,
  buildIpv4,
  buildTcpSyn,
  parseArp,
  parseEthernet,
  parseFrame,
  type Frame,
} from '../../controller/packet/index.ts';
import { OFPFF_SEND_FLOW_REM, OFPP_CONTROLLER } from 'openflow-ts';
import { dropPort, observeLink, type LinkTable } from '../../controller/topology/links.ts';
import { learnHost } from '../../controller/topology/hosts.ts';
import { TopologyState } from '../../controller/topology/state.ts';
import type { Endpoint, Link, TopologyEvent } from '../../controller/topology/types.ts';
import {
  defaultForwardingOptions,
  FlowTable,
  FORWARDING_COOKIE_TAG,
  handleFlowRemoved,
  handlePacket,
  handleTopology,
  planPath,
  type ForwardingOptions,
  type Plan,
  type SwitchProgram,
} from '../../controller/routing/forwarding.ts';
import { waves } from '../../controller/routing/programs.ts';
import { deleteByCookie } from '../../controller/routing/ofmsg.ts';
import { FakeNetwork, type Fields } from './fake-network.ts';
import { buildGraph, equalCostPaths } from '../../controller/topology/graph.ts';
import { hopsOf } from '../../controller/routing/paths.ts';
import { choosePath } from '../../controller/routing/forwarding.ts';
import { flowHash, type FlowKey } from '../../controller/routing/flowkey.ts';
import { fatTree } from '../../bench/fattree.ts';

const dp = (n: number): string => n.toString(16).padStart(16, '0');
const ep = (n: number, port: number): Endpoint => ({ dpid: dp(n), port });

const H1 = { mac: '00:00:00:00:00:01', ipv4: '10.0.0.1', at: ep(1, 3) };
const H2 = { mac: '00:00:00:00:00:02', ipv4: '10.0.0.2', at: ep(4, 3) };
const H3 = { mac: '00:00:00:00:00:03', ipv4: '10.0.0.3', at: ep(2, 3) };
const HOST_PORTS = [ep(1, 3), ep(4, 3), ep(2, 3), ep(3, 3), ep(2, 5)];

/**
 * The diamond: s1 —1/1— s2 —2/1— s4, s1 —2/1— s3 —2/2— s4; hosts on port 3 of s1, s4 and s2.
 * Ports are up since 0 (settled long before the tests' now of 10 s) unless `young` says otherwise.
 */
function diamond(hs: readonly (typeof H1)[] = [H1, H2, H3], young: (dpid: string) => number = () => 0): TopologyState {
  const t = new TopologyState(1000);
  for (const n of [1, 2, 3, 4]) t.switchUp(dp(n), [1, 2, 3, ...(n === 2 ? [5] : [])].map((port) => ({ port, upSince: young(dp(n)), speedKbps: 1e6 })));
  const cable = (a: Endpoint, b: Endpoint): void => {
    t.applyLinks(observeLink(t.links, a, b, 1e9, 0));
    t.applyLinks(observeLink(t.links, b, a, 1e9, 0));
  };
  cable(ep(1, 1), ep(2, 1));
  cable(ep(1, 2), ep(3, 1));
  cable(ep(2, 2), ep(4, 1));
  cable(ep(3, 2), ep(4, 2));
  for (const h of hs) t.applyHosts(learnHost(t.hosts, h, 0));
  return t;
}
const DIAMOND = diamond().links;

const NOW = 10_000;

/** Applies a plan's changes to the flow table and hands the plan back. */
function applied(flows: FlowTable, plan: Plan): Plan {
  flows.apply(plan);
  return plan;
}

function ipFrame(src: typeof H1, dst: typeof H1, proto = IP_PROTO_ICMP, ports?: [number, number]): { frame: Frame; data: Buffer } {
  const payload = proto === IP_PROTO_TCP && ports ? buildTcpSyn(ports[0], ports[1]) : Buffer.alloc(8);
  const data = buildEthernet({ dst: dst.mac, src: src.mac, ethType: ETH_TYPE_IPV4, payload: buildIpv4({ src: src.ipv4, dst: dst.ipv4, protocol: proto, payload }) });
  const f = parseFrame(data);
  assert.ok(f.ok);
  return { frame: f.value, data };
}

function fieldsOf(src: typeof H1, dst: typeof H1, proto = IP_PROTO_ICMP, ports?: [number, number]): Fields {
  const f: Record<string, string | number> = { eth_type: ETH_TYPE_IPV4, eth_src: src.mac, eth_dst: dst.mac, ipv4_src: src.ipv4, ipv4_dst: dst.ipv4, ip_proto: proto };
  if (ports) Object.assign(f, { tcp_src: ports[0], tcp_dst: ports[1] });
  return f;
}

const OPTS: ForwardingOptions = defaultForwardingOptions;
const links = (t: LinkTable): Link[] => [...t.values()];
const clone = (f: FlowTable): FlowTable => {
  const c = new FlowTable();
  c.apply({ changes: [...f.values()].map((flow) => ({ op: 'put', flow })) });
  return c;
};

describe('routing: planPath', () => {
  it('emits one rule per switch, egress first, with in_port, idle timeout and flow-removed at ingress only', () => {
    const hops = [
      { dpid: dp(1), inPort: 3, outPort: 1 },
      { dpid: dp(2), inPort: 1, outPort: 2 },
      { dpid: dp(4), inPort: 1, outPort: 3 },
    ];
    const progs = planPath(hops, { src: '10.0.0.1', dst: '10.0.0.2' }, 0x42n, { ...OPTS, idleTimeoutSec: 7 });
    assert.deepEqual(progs.map((p) => p.dpid), [dp(4), dp(2), dp(1)]);
    for (const p of progs) {
      const m = p.messages[0];
      assert.ok(m?.type === 'flow_mod');
      assert.equal(m.idleTimeout, 7);
      assert.equal(m.cookie, 0x42n);
      assert.equal(m.flags & OFPFF_SEND_FLOW_REM, p.dpid === dp(1) ? OFPFF_SEND_FLOW_REM : 0);
      assert.deepEqual(m.match.slice(0, 2), [{ field: 'in_port', value: hops.find((h) => h.dpid === p.dpid)?.inPort }, { field: 'eth_type', value: 0x0800 }]);
    }
  });
});

describe('routing: IPv4 forwarding', () => {
  const snap = diamond().view(NOW);

  function install(flows: FlowTable, net: FakeNetwork, src: typeof H1, dst: typeof H1, proto = IP_PROTO_ICMP, ports?: [number, number], opts = OPTS): Plan {
    const plan = handlePacket(flows, snap, { at: src.at, ...ipFrame(src, dst, proto, ports) }, opts);
    net.apply(plan.programs);
    flows.apply(plan);
    return plan;
  }

  it('installs a path that carries the packet from host to host, then sends the packet out of the ingress', () => {
    const net = new FakeNetwork(links(DIAMOND), HOST_PORTS);
    assert.equal(net.trace(H1.at, fieldsOf(H1, H2)).kind, 'controller', 'nothing installed yet');
    const flows = new FlowTable();
    const plan = handlePacket(flows, snap, { at: H1.at, ...ipFrame(H1, H2) }, OPTS);
    assert.equal(flows.size, 0, 'planning changes nothing until the plan is applied');
    net.apply(plan.programs);
    flows.apply(plan);
    const r = net.trace(H1.at, fieldsOf(H1, H2));
    assert.equal(r.kind, 'delivered');
    assert.ok(r.kind === 'delivered' && r.at.dpid === dp(4) && r.at.port === 3);
    assert.equal(r.path.length, 3);
    assert.equal(plan.packetOuts.length, 1);
    const po = plan.packetOuts[0]?.messages[0];
    assert.ok(po?.type === 'packet_out');
    assert.equal(plan.packetOuts[0]?.dpid, dp(1));
    assert.equal(po.inPort, 3);
    assert.deepEqual(po.actions.map((a) => a.type === 'output' && a.port), [net.lookup(dp(1), { ...fieldsOf(H1, H2), in_port: 3 })?.outPort]);
    assert.equal(flows.size, 1);
    const flow = [...flows.values()][0]!;
    assert.equal(flows.byCookie(flow.cookie), flow, 'found by cookie');
    assert.deepEqual([...flows.ofHost(H2.mac)], [flow], 'and by either host');
    assert.deepEqual([...flows.onLink(flow.linkIds[0]!)], [flow], 'and by the links it crosses');
    // The reverse direction is its own flow: not installed until its own packet-in.
    assert.equal(net.trace(H2.at, fieldsOf(H2, H1)).kind, 'controller');
  });

  it('re-adds under the same cookie when a packet-in shows a rule idled out', () => {
    const net = new FakeNetwork(links(DIAMOND), HOST_PORTS);
    const flows = new FlowTable();
    install(flows, net, H1, H2);
    const next = flows.nextFlowId;
    const again = handlePacket(flows, snap, { at: H1.at, ...ipFrame(H1, H2) }, OPTS);
    flows.apply(again);
    assert.equal(flows.nextFlowId, next);
    assert.equal(flows.size, 1);
    const cookies = new Set(again.programs.flatMap((p) => p.messages.map((m) => (m.type === 'flow_mod' ? m.cookie : -1n))));
    assert.deepEqual([...cookies], [FORWARDING_COOKIE_TAG | 1n]);
  });

  it('spreads TCP connections over both diamond paths with ECMP, each on one path', () => {
    const net = new FakeNetwork(links(DIAMOND), HOST_PORTS);
    const flows = new FlowTable();
    const middles = new Set<string>();
    for (let sport = 40000; sport < 40016; sport++) {
      install(flows, net, H1, H2, IP_PROTO_TCP, [sport, 80]);
      const r = net.trace(H1.at, fieldsOf(H1, H2, IP_PROTO_TCP, [sport, 80]));
      assert.equal(r.kind, 'delivered');
      middles.add(r.path[1] ?? '');
    }
    assert.deepEqual([...middles].sort(), [dp(2), dp(3)]);
    assert.equal(flows.size, 16);
    assert.equal(new Set([...flows.values()].map((f) => f.cookie)).size, 16, 'a cookie per flow');
  });

  it('keeps every flow between two hosts on the first path when ECMP is off', () => {
    const net = new FakeNetwork(links(DIAMOND), HOST_PORTS);
    const flows = new FlowTable();
    const single = { ...OPTS, ecmp: false };
    for (let sport = 40000; sport < 40008; sport++) install(flows, net, H1, H2, IP_PROTO_TCP, [sport, 80], single);
    assert.equal(flows.size, 1, 'one flow per address pair');
    for (let sport = 50000; sport < 50008; sport++) {
      const r = net.trace(H1.at, fieldsOf(H1, H2, IP_PROTO_TCP, [sport, 443]));
      assert.ok(r.kind === 'delivered' && r.path[1] === dp(2));
    }
  });

  it('floods a packet for an unknown host to edge ports only, and drops one from an unknown source', () => {
    const stranger = { mac: '00:00:00:00:00:99', ipv4: '10.0.0.99', at: ep(3, 3) };
    const toUnknown = handlePacket(new FlowTable(), snap, { at: H1.at, ...ipFrame(H1, stranger) }, OPTS);
    assert.equal(toUnknown.programs.length, 0);
    const outs = toUnknown.packetOuts.flatMap((p) => p.messages.flatMap((m) => (m.type === 'packet_out' ? m.actions.map((a) => a.type === 'output' && `${p.dpid.slice(-1)}:${a.port}`) : [])));
    assert.deepEqual(outs.sort(), ['2:3', '2:5', '3:3', '4:3']);
    const fromUnknown = handlePacket(new FlowTable(), snap, { at: ep(2, 1), ...ipFrame(stranger, H2) }, OPTS);
    assert.deepEqual([fromUnknown.programs.length, fromUnknown.packetOuts.length], [0, 0]);
  });

  it('installs the whole path and sends from the middle when the packet-in comes from a middle switch', () => {
    const net = new FakeNetwork(links(DIAMOND), HOST_PORTS);
    const flows = new FlowTable();
    install(flows, net, H1, H2);
    const mid = [...flows.values()][0]?.hops[1];
    assert.ok(mid);
    const plan = handlePacket(flows, snap, { at: { dpid: mid.dpid, port: mid.inPort }, ...ipFrame(H1, H2) }, OPTS);
    assert.equal(plan.programs.length, 3);
    const po = plan.packetOuts[0];
    assert.equal(po?.dpid, mid.dpid);
    const msg = po?.messages[0];
    assert.ok(msg?.type === 'packet_out' && msg.actions[0]?.type === 'output' && msg.actions[0].port === mid.outPort);
  });
});

describe('routing: path choice from the per-destination tables', () => {
  it('picks the same path per flow as a search over the whole graph did', () => {
    // A k=4 fat-tree: 4 equal-cost paths between pods; maxPaths 3 cuts the set as the old limit did.
    const ft = fatTree(4);
    const topo = new TopologyState(0);
    for (const d of ft.switches) topo.switchUp(d, [1, 2, 3, 4].map((port) => ({ port, upSince: 0, speedKbps: 1e6 })));
    for (const l of ft.links) topo.applyLinks(observeLink(topo.links, l.src, l.dst, l.capacityBps, 0));
    const g = buildGraph(ft.switches, ft.links);
    const snap = topo.view(0);
    for (const maxPaths of [16, 3, 1]) {
      const opts = { ...OPTS, maxPaths };
      for (let i = 0; i < 64; i++) {
        const src = { dpid: ft.edges[i % ft.edges.length]!, port: 1 };
        const dst = { dpid: ft.edges[(i * 5 + 3) % ft.edges.length]!, port: 2 };
        const key: FlowKey = { src: `10.0.0.${i}`, dst: '10.0.1.1', proto: 6, srcPort: 1000 + i, dstPort: 80 };
        const paths = equalCostPaths(g, src.dpid, dst.dpid, { limit: maxPaths });
        const want = paths[flowHash(key) % paths.length]!;
        assert.deepEqual(choosePath(snap, src, dst, key, opts)?.hops, hopsOf(want, src, dst), `flow ${i}, maxPaths ${maxPaths}`);
      }
    }
  });

  it('finds no path to a switch that has left, nor between hosts on one port', () => {
    const topo = diamond();
    const key: FlowKey = { src: H1.ipv4, dst: H2.ipv4 };
    assert.equal(choosePath(topo.view(NOW), H1.at, H1.at, key, OPTS), undefined);
    topo.switchDown(dp(4));
    assert.equal(choosePath(topo.view(NOW), H1.at, H2.at, key, OPTS), undefined);
  });
});

describe('routing: flow table', () => {
  it('forgets flood fingerprints once their window has passed, as floods go on', () => {
    const flows = new FlowTable();
    for (let t = 0; t < 100; t++) flows.apply({ changes: [{ op: 'flooded', fingerprint: `f${t}`, at: t * 10, windowMs: 500 }] });
    assert.equal(flows.floodsRemembered, 50, 'only the last 500 ms of floods');
    assert.equal(flows.lastFlood('f0'), undefined);
    assert.equal(flows.lastFlood('f99'), 990);
  });
});

describe('routing: topology changes', () => {
  function installed(): { topo: TopologyState; flows: FlowTable; net: FakeNetwork } {
    const topo = diamond();
    const flows = new FlowTable();
    const net = new FakeNetwork(links(DIAMOND), HOST_PORTS);
    const plan = applied(flows, handlePacket(flows, topo.view(NOW), { at: H1.at, ...ipFrame(H1, H2) }, OPTS));
    net.apply(plan.programs);
    return { topo, flows, net };
  }

  it('moves flows off a link that goes down, then removes the old rules', () => {
    const { topo, flows, net } = installed();
    const flow = [...flows.values()][0]!;
    const usedLink = DIAMOND.get(flow.linkIds[0]!)!;
    const down = dropPort(topo.links, usedLink.src, 'port_down', 20_000);
    topo.applyLinks(down);
    const ev = down.events[0]!;
    const plan = applied(flows, handleTopology(flows, topo.view(20_000), ev, OPTS));
    assert.deepEqual([...flows.onLink(usedLink.id)], [], 'no flow is left on the dead link');
    assert.equal(flows.size, 1);
    const after = new FakeNetwork(links(topo.links), HOST_PORTS);
    after.tables.clear();
    for (const [k, v] of net.tables) after.tables.set(k, [...v]);
    after.apply(plan.programs);
    const r = after.trace(H1.at, fieldsOf(H1, H2));
    assert.ok(r.kind === 'delivered' && r.at.port === 3 && r.at.dpid === dp(4), JSON.stringify(r));
    assert.notEqual(r.path[1], usedLink.dst.dpid, 'avoids the dead link');
    assert.ok(!after.allCookies().has(flow.cookie), 'no rule of the old path is left');
    // New rules first (egress first), deletes of the old cookie last.
    const kinds = plan.programs.map((p) => (p.messages[0]?.type === 'flow_mod' && p.messages[0].command === 0 ? 'add' : 'del'));
    assert.deepEqual(kinds, ['add', 'add', 'add', 'del', 'del', 'del']);
  });

  it('deletes flows that have no path left, and leaves flows on other links alone', () => {
    const { topo, flows } = installed();
    const untouched = clone(flows);
    const unrelated: TopologyEvent = { type: 'link_up', link: [...DIAMOND.values()][0]! };
    assert.deepEqual(handleTopology(flows, topo.view(NOW), unrelated, OPTS).programs, []);
    const cut = [dropPort(topo.links, ep(4, 1), 'port_down', 1)];
    topo.applyLinks(cut[0]!);
    cut.push(dropPort(topo.links, ep(4, 2), 'port_down', 1));
    topo.applyLinks(cut[1]!);
    const programs = [];
    for (const ev of cut.flatMap((c) => c.events)) programs.push(...applied(flows, handleTopology(flows, topo.view(NOW), ev, OPTS)).programs);
    assert.equal(flows.size, 0);
    assert.ok(programs.every((p) => p.messages.every((m) => m.type === 'flow_mod' && m.command === 3)));
    assert.equal(untouched.size, 1);
  });

  it('follows a host that moves to another switch', () => {
    const { topo, flows, net } = installed();
    const moved = learnHost(topo.hosts, { mac: H2.mac, ipv4: H2.ipv4, at: ep(2, 5) }, 30_000);
    topo.applyHosts(moved);
    const plan = applied(flows, handleTopology(flows, topo.view(30_000), moved.events[0]!, OPTS));
    net.apply(plan.programs);
    const r = net.trace(H1.at, fieldsOf(H1, H2));
    assert.ok(r.kind === 'delivered' && r.at.dpid === dp(2) && r.at.port === 5, JSON.stringify(r));
  });

  it('ends a flow when its ingress rule is removed, deleting its rules elsewhere', () => {
    const { flows } = installed();
    const flow = [...flows.values()][0]!;
    assert.deepEqual(handleFlowRemoved(flows, dp(4), flow.cookie).programs, [], 'only the ingress rule ends a flow');
    const plan = applied(flows, handleFlowRemoved(flows, dp(1), flow.cookie));
    assert.equal(flows.size, 0);
    assert.equal(flows.byCookie(flow.cookie), undefined);
    assert.deepEqual(handleFlowRemoved(flows, dp(1), flow.cookie).programs, [], 'a second removal is nothing');
    assert.deepEqual(plan.programs.map((p) => p.dpid).sort(), flow.hops.slice(1).map((h) => h.dpid).sort());
  });
});

describe('routing: ARP', () => {
  const topo = diamond();
  const snap = topo.view(NOW);
  const arpFrom = (src: typeof H1, targetIp: string): { frame: Frame; data: Buffer } => {
    const data = buildEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: src.mac, ethType: ETH_TYPE_ARP, payload: buildArp(arpRequest(src.mac, src.ipv4, targetIp)) });
    const f = parseFrame(data);
    assert.ok(f.ok);
    return { frame: f.value, data };
  };

  it('answers a request for a known host itself, out of the asking port', () => {
    const plan = handlePacket(new FlowTable(), snap, { at: H1.at, ...arpFrom(H1, H2.ipv4) }, OPTS);
    assert.equal(plan.packetOuts.length, 1);
    const po = plan.packetOuts[0]!;
    const msg = po.messages[0];
    assert.ok(msg?.type === 'packet_out');
    assert.equal(po.dpid, dp(1));
    assert.equal(msg.inPort, OFPP_CONTROLLER);
    assert.deepEqual(msg.actions, [{ type: 'output', port: 3, maxLen: 0 }]);
    const eth = parseEthernet(msg.data);
    assert.ok(eth.ok);
    assert.deepEqual([eth.value.dst, eth.value.src], [H1.mac, H2.mac]);
    const arp = parseArp(eth.value.payload);
    assert.ok(arp.ok);
    assert.deepEqual(arp.value, { op: ARP_REPLY, senderMac: H2.mac, senderIp: H2.ipv4, targetMac: H1.mac, targetIp: H1.ipv4 });
  });

  it('floods a request for an unknown address to every edge port but the asking one, once', () => {
    const flows = new FlowTable();
    const first = applied(flows, handlePacket(flows, snap, { at: H1.at, ...arpFrom(H1, '10.0.0.77') }, OPTS));
    const outs = first.packetOuts.flatMap((p) => p.messages.flatMap((m) => (m.type === 'packet_out' ? m.actions.map((a) => a.type === 'output' && `${p.dpid.slice(-1)}:${a.port}`) : [])));
    assert.deepEqual(outs.sort(), ['2:3', '2:5', '3:3', '4:3'], 'host ports only: no switch-to-switch port, not the ingress');
    const repeat = handlePacket(flows, topo.view(NOW + 100), { at: ep(2, 1), ...arpFrom(H1, '10.0.0.77') }, OPTS);
    assert.equal(repeat.packetOuts.length, 0, 'the same frame coming back is not flooded again');
    const retry = handlePacket(flows, topo.view(NOW + 1000), { at: H1.at, ...arpFrom(H1, '10.0.0.77') }, OPTS);
    assert.equal(retry.packetOuts.length, 3, 'a retry a second later is');
  });

  it('does not flood out of ports that came up too recently to be known as host ports', () => {
    const young = diamond([H1, H2, H3], (d) => (d === dp(3) ? NOW - 10 : 0)).view(NOW);
    const plan = handlePacket(new FlowTable(), young, { at: H1.at, ...arpFrom(H1, '10.0.0.77') }, OPTS);
    assert.ok(plan.packetOuts.every((p) => p.dpid !== dp(3)));
  });

  it('delivers an ARP reply to a known host directly', () => {
    const data = buildEthernet({ dst: H1.mac, src: H2.mac, ethType: ETH_TYPE_ARP, payload: buildArp({ op: ARP_REPLY, senderMac: H2.mac, senderIp: H2.ipv4, targetMac: H1.mac, targetIp: H1.ipv4 }) });
    const f = parseFrame(data);
    assert.ok(f.ok);
    const plan = handlePacket(new FlowTable(), snap, { at: H2.at, frame: f.value, data }, OPTS);
    assert.deepEqual(plan.packetOuts.map((p) => p.dpid), [dp(1)]);
    const msg = plan.packetOuts[0]?.messages[0];
    assert.ok(msg?.type === 'packet_out');
    assert.deepEqual(msg.actions, [{ type: 'output', port: 3, maxLen: 0 }]);
  });
});

describe('switch programs in waves', () => {
  const prog = (dpid: string, n: number): SwitchProgram => ({ dpid, messages: Array.from({ length: n }, () => deleteByCookie(1n)) });

  it('runs different switches together and keeps a switch\'s programs in order, deletes after adds', () => {
    const list = [prog('a', 1), prog('d', 1), prog('c', 1), prog('a', 2), prog('b', 2), prog('c', 2)];
    assert.deepEqual(
      waves(list).map((w) => w.map((p) => `${p.dpid}${p.messages.length}`)),
      [['a1', 'd1', 'c1'], ['a2', 'b2', 'c2']],
    );
  });

  it('gives each program its own wave when all are for one switch', () => {
    assert.equal(waves([prog('a', 1), prog('a', 1), prog('a', 1)]).length, 3);
    assert.deepEqual(waves([]), []);
  });
});

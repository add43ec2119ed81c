// The controller's state per event, without sockets: discovery's tables and the forwarding planner
// fed directly, at 1k, 16k and 64k learned hosts (one installed flow per host), on a k=16 fat-tree
// (320 switches, 4,096 link directions, hosts spread over its 1,024 edge ports). Run:
// node --import tsx bench/forwarding.ts  (npm run bench:forwarding)
//
// Method: for each size, build the state (untimed), then time each kind of event over a batch
// (after a warm-up batch), reported as CPU µs per event (process CPU time, which a busy machine
// disturbs less than wall time); what a batch added (hosts, flows)
// is removed again, untimed, so every batch runs at its size. Events are prepared beforehand
// (frames built and parsed), so the figures are the tables' and planner's work: learning a host,
// planning a flow, applying the changes. Flat across sizes is the goal. The LLDP part times link
// observations on fat-trees of growing size (k = 4, 8, 16, 24) for the same reason. Figures move
// with the machine's load: compare the columns of one run.
import { buildEthernet, buildIpv4, buildTcpSyn, ETH_TYPE_IPV4, IP_PROTO_TCP, parseFrame, type Frame } from '../controller/packet/index.ts';
import { TopologyState } from '../controller/topology/state.ts';
import { expireHosts, learnHost } from '../controller/topology/hosts.ts';
import { expireLinks, observeLink } from '../controller/topology/links.ts';
import { isEdgePort } from '../controller/topology/snapshot.ts';
import type { Endpoint, Link } from '../controller/topology/types.ts';
import { defaultForwardingOptions, FlowTable, handleFlowRemoved, handlePacket, type Plan, type RoutedFlow } from '../controller/routing/forwarding.ts';
import { fatTree } from './fattree.ts';

const SIZES = [1_000, 16_000, 64_000];
const BATCH = 5_000;
const MIN_CPU_US = 300_000;
const DESTINATIONS = 4;
const opts = defaultForwardingOptions;

const mac = (i: number): string => `02:00:${[24, 16, 8, 0].map((s) => ((i >>> s) & 0xff).toString(16).padStart(2, '0')).join(':')}`;
const ip = (i: number): string => `10.${(i >>> 16) & 0xff}.${(i >>> 8) & 0xff}.${i & 0xff}`;

interface Packet {
  readonly at: Endpoint;
  readonly frame: Frame;
  readonly data: Buffer;
}

function tcp(src: number, dst: number, at: Endpoint, sport: number): Packet {
  const data = buildEthernet({
    dst: mac(dst),
    src: mac(src),
    ethType: ETH_TYPE_IPV4,
    payload: buildIpv4({ src: ip(src), dst: ip(dst), protocol: IP_PROTO_TCP, payload: buildTcpSyn(sport, 80) }),
  });
  const f = parseFrame(data);
  if (!f.ok) throw new Error('bad frame');
  return { at, frame: f.value, data };
}

/** A fat-tree with its switches up and every link proven, ports settled. */
function fabric(k: number): { topo: TopologyState; edgePorts: Endpoint[]; links: readonly Link[] } {
  const ft = fatTree(k);
  const topo = new TopologyState(0);
  for (const d of ft.switches) topo.switchUp(d, Array.from({ length: k }, (_, i) => ({ port: i + 1, upSince: 0, speedKbps: 1e7 })));
  for (const l of ft.links) topo.applyLinks(observeLink(topo.links, l.src, l.dst, l.capacityBps, 0));
  // Edge switches use ports 1..k/2 upwards; the others face hosts.
  const edgePorts = ft.edges.flatMap((dpid) => Array.from({ length: k / 2 }, (_, i) => ({ dpid, port: i + 1 })));
  return { topo, edgePorts, links: ft.links };
}

class Bench {
  readonly topo: TopologyState;
  readonly flows = new FlowTable();
  readonly edgePorts: Endpoint[];
  now = 1;
  hosts = 0;

  constructor() {
    const f = fabric(16);
    this.topo = f.topo;
    this.edgePorts = f.edgePorts;
  }

  attachment(i: number): Endpoint {
    return this.edgePorts[(i * 7919) % this.edgePorts.length] as Endpoint;
  }

  /** A packet-in as discovery and forwarding take it: learn the source at an edge port, then plan and apply. */
  packetIn(p: Packet): Plan {
    const now = this.now++;
    const view = this.topo.view(now);
    const l3 = p.frame.l3;
    if (isEdgePort(view, p.at) && l3.kind === 'ipv4') this.topo.applyHosts(learnHost(this.topo.hosts, { mac: p.frame.eth.src, ipv4: l3.ip.src, at: p.at }, now));
    const plan = handlePacket(this.flows, view, p, opts);
    this.flows.apply(plan);
    return plan;
  }

  /** Takes hosts and flows a batch added out again (untimed), so the next batch runs at the same size. */
  forget(macs: readonly string[], flowIds: readonly string[]): void {
    this.flows.apply({ changes: flowIds.map((id) => ({ op: 'delete', id })) });
    this.topo.applyHosts({ changes: macs.map((m) => ({ op: 'delete', mac: m })) });
    this.hosts -= macs.length;
  }

  /** Destinations first, then new hosts up to n, each with one flow to a destination. */
  growTo(n: number): void {
    for (let d = 0; d < DESTINATIONS; d++) this.packetIn(tcp(d, (d + 1) % DESTINATIONS, this.attachment(d), 1));
    this.hosts = Math.max(this.hosts, DESTINATIONS);
    while (this.hosts < n) {
      const i = this.hosts++;
      this.packetIn(tcp(i, i % DESTINATIONS, this.attachment(i), 1));
    }
  }
}

/**
 * CPU µs per event: a warm-up batch, then batches until at least MIN_CPU_US of CPU time has been
 * measured (the kernel accounts CPU time in ticks, so short batches would round badly), averaged.
 * `after` runs untimed after each batch, to undo what it added.
 */
function time(batch: number, prepare: (i: number) => () => unknown, after: () => void = () => {}): number {
  let cpu = 0;
  let events = 0;
  for (let round = 0; round < 3 || cpu < MIN_CPU_US; round++) {
    const jobs = Array.from({ length: batch }, (_, i) => prepare(i));
    const t0 = process.cpuUsage();
    for (const j of jobs) j();
    const t1 = process.cpuUsage(t0);
    after();
    // Round 0 warms the JIT up and is not counted.
    if (round === 0) continue;
    cpu += t1.user + t1.system;
    events += batch;
  }
  return cpu / events;
}

type Row = Record<string, number>;
const rows = new Map<string, Row>();
const put = (event: string, size: string, us: number): void => {
  const r = rows.get(event) ?? {};
  r[size] = us;
  rows.set(event, r);
};

const bench = new Bench();
let sport = 1000;
for (const n of SIZES) {
  bench.growTo(n);
  const size = `${n / 1000}k hosts`;
  // New source hosts (never seen) sending to a known destination: learn + new flow.
  const macs: string[] = [];
  const added: string[] = [];
  const track = (plan: Plan): void => {
    for (const c of plan.changes) if (c.op === 'put') added.push(c.flow.id);
  };
  const forget = (): void => {
    bench.forget(macs.splice(0), added.splice(0));
  };
  put('new host, new flow', size, time(BATCH, (j) => {
    const i = bench.hosts + j;
    macs.push(mac(i));
    const p = tcp(i, i % DESTINATIONS, bench.attachment(i), 1);
    return () => track(bench.packetIn(p));
  }, () => {
    bench.hosts += macs.length;
    forget();
  }));
  // Known hosts opening new connections to known destinations: a new flow each.
  put('known host, new flow', size, time(BATCH, (j) => {
    const i = DESTINATIONS + ((j * 104729) % (n - DESTINATIONS));
    const p = tcp(i, i % DESTINATIONS, bench.attachment(i), 1 + (sport++ % 60000));
    return () => track(bench.packetIn(p));
  }, forget));
  // The ingress rule of an installed flow idles out: find it by cookie, delete it elsewhere. The
  // flows are put back afterwards (untimed).
  const removed: RoutedFlow[] = [];
  const flowList = [...bench.flows.values()];
  put('flow removed', size, time(Math.min(BATCH, flowList.length), (j) => {
    const flow = flowList[j] as RoutedFlow;
    removed.push(flow);
    const dpid = flow.hops[0]?.dpid ?? '';
    return () => bench.flows.apply(handleFlowRemoved(bench.flows, dpid, flow.cookie));
  }, () => bench.flows.apply({ changes: removed.splice(0).map((flow) => ({ op: 'put', flow })) })));
  // An LLDP frame proving a known link again, and the periodic expiry checks with nothing due.
  const links = [...bench.topo.links.values()];
  put('LLDP refresh', size, time(BATCH, (j) => {
    const l = links[j % links.length] as Link;
    return () => bench.topo.applyLinks(observeLink(bench.topo.links, l.src, l.dst, l.capacityBps, bench.now++));
  }));
  put('expiry tick (nothing due)', size, time(BATCH, () => () => {
    bench.topo.applyLinks(expireLinks(bench.topo.links, bench.now, 1e12));
    bench.topo.applyHosts(expireHosts(bench.topo.hosts, bench.now, 1e12));
  }));
  const flows = bench.flows.size;
  console.log(`${size}: ${bench.topo.hosts.size} hosts, ${flows} flows, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
}

// Discovery of fat-trees of growing size: every direction learned once, then refreshed.
const linkRows = new Map<string, Row>();
for (const k of [4, 8, 16, 24]) {
  const ft = fatTree(k);
  const topo = new TopologyState(0);
  for (const d of ft.switches) topo.switchUp(d, Array.from({ length: k }, (_, i) => ({ port: i + 1, upSince: 0, speedKbps: 1e7 })));
  const t0 = process.cpuUsage();
  for (const l of ft.links) topo.applyLinks(observeLink(topo.links, l.src, l.dst, l.capacityBps, 1));
  const t1 = process.cpuUsage(t0);
  const discover = (t1.user + t1.system) / ft.links.length;
  let now = 2;
  const refresh = time(ft.links.length, (j) => {
    const l = ft.links[j % ft.links.length] as Link;
    return () => topo.applyLinks(observeLink(topo.links, l.src, l.dst, l.capacityBps, now++));
  });
  const col = `k=${k} (${ft.links.length} dirs)`;
  linkRows.set(col, { 'new link (first LLDP)': discover, 'LLDP refresh': refresh });
}

const fmt = (us: number | undefined): string => (us === undefined ? '' : us < 10 ? us.toFixed(2) : us.toFixed(1));
function table(title: string, data: Map<string, Row>, cols: readonly string[]): void {
  const width = Math.max(...[...data.keys()].map((k) => k.length), title.length);
  console.log(`${title.padEnd(width)} | ${cols.map((c) => c.padStart(12)).join(' | ')}`);
  console.log(`${'-'.repeat(width)}-|-${cols.map(() => '-'.repeat(12)).join('-|-')}`);
  for (const [name, r] of data) console.log(`${name.padEnd(width)} | ${cols.map((c) => fmt(r[c]).padStart(12)).join(' | ')}`);
  console.log('');
}

console.log(`forwarding state, CPU µs per event (k=16 fat-tree, batches of up to ${BATCH} events)\n`);
table('event', rows, SIZES.map((n) => `${n / 1000}k hosts`));
const transposed = new Map<string, Row>();
for (const [col, r] of linkRows) for (const [event, us] of Object.entries(r)) transposed.set(event, { ...transposed.get(event), [col]: us });
console.log('link table, CPU µs per LLDP packet-in\n');
table('event', transposed, [...linkRows.keys()]);

// Forwarding as a function: (state, network snapshot, input) → {next state, programs, packet-outs}.
// Nothing here sends or reads a clock; the Forwarding service executes what these return.
//
// ECMP choice: per-flow hashing in the controller. Among the equal-cost paths (sorted by link id),
// flow k takes path flowHash(k) mod n, and its rules match the 5-tuple, so different TCP/UDP
// connections between the same hosts spread over the paths while each keeps one path (no
// reordering). Select groups would spread in the switch instead, but then the controller could not
// say which path a flow takes (for /paths, for moving one flow off a link) and OVS's select hash
// differs by version. With ecmp off, a flow is the address pair and always takes the first path.
import type { Outgoing } from '../session.ts';
import { OFPFF_SEND_FLOW_REM, OFPP_CONTROLLER } from '../openflow/index.ts';
import { arpReplyTo, buildArp, buildEthernet, ETH_TYPE_ARP, ARP_REQUEST, isMulticastMac, type ArpPacket, type EthernetFrame, type Frame } from '../packet/index.ts';
import { edgePorts, graphOf, type NetworkSnapshot } from '../topology/snapshot.ts';
import { hostByIp } from '../topology/hosts.ts';
import { sameEndpoint, type Endpoint, type Host, type TopologyEvent } from '../topology/types.ts';
import { flowHash, flowKeyOf, flowKeyString, flowMatch, flowPriority, type FlowKey } from './flowkey.ts';
import { hostPaths, type Hop, type HostPath } from './paths.ts';
import { addFlow, deleteByCookie, packetOut } from './ofmsg.ts';

export interface ForwardingOptions {
  /** Spread flows over equal-cost paths (per-flow hash); off: one path per address pair. */
  readonly ecmp: boolean;
  readonly idleTimeoutSec: number;
  /** Base priority of forwarding rules (more specific keys get +10, +20). */
  readonly priority: number;
  readonly maxPaths: number;
  /** A flood of the same frame within this window is suppressed: a last guard against loops. */
  readonly floodDedupMs: number;
}

export const defaultForwardingOptions: ForwardingOptions = {
  ecmp: true,
  idleTimeoutSec: 30,
  priority: 1000,
  maxPaths: 16,
  floodDedupMs: 500,
};

/** Forwarding rules carry this tag in the cookie's top byte; the low 56 bits number the flow. */
export const FORWARDING_COOKIE_TAG = 0xf1n << 56n;

export interface RoutedFlow {
  readonly key: FlowKey;
  readonly cookie: bigint;
  readonly srcMac: string;
  readonly dstMac: string;
  readonly hops: readonly Hop[];
  readonly linkIds: readonly string[];
}

export interface ForwardingState {
  /** By flowKeyString. */
  readonly flows: ReadonlyMap<string, RoutedFlow>;
  readonly nextFlowId: bigint;
  /** Flood fingerprints and when they were flooded. */
  readonly recentFloods: ReadonlyMap<string, number>;
}

export const initialForwardingState: ForwardingState = { flows: new Map(), nextFlowId: 1n, recentFloods: new Map() };

/** Messages for one switch, applied in order and followed by a barrier before the next program. */
export interface SwitchProgram {
  readonly dpid: string;
  readonly messages: readonly Outgoing[];
}

export interface Plan {
  readonly state: ForwardingState;
  /** Run in waves (programs.ts), each to its barrier: rules first, deletes of replaced rules last. */
  readonly programs: readonly SwitchProgram[];
  /** Sent once every program is applied. */
  readonly packetOuts: readonly SwitchProgram[];
}

const nothing = (state: ForwardingState): Plan => ({ state, programs: [], packetOuts: [] });

/**
 * The rules that carry one flow along hops: one per switch, egress first so that no switch
 * forwards the flow before the next one knows it. Only the ingress rule reports its removal: the
 * flow lives as long as packets keep entering it.
 */
export function planPath(hops: readonly Hop[], key: FlowKey, cookie: bigint, opts: ForwardingOptions): SwitchProgram[] {
  const match = flowMatch(key);
  const priority = flowPriority(key, opts.priority);
  return hops
    .map((hop, i) => ({
      dpid: hop.dpid,
      messages: [
        addFlow({
          cookie,
          priority,
          idleTimeoutSec: opts.idleTimeoutSec,
          flags: i === 0 ? OFPFF_SEND_FLOW_REM : 0,
          match: [{ field: 'in_port', value: hop.inPort }, ...match],
          actions: [{ type: 'output', port: hop.outPort, maxLen: 0 }],
        }),
      ],
    }))
    .reverse();
}

/** The path a flow between two hosts takes (the ECMP pick), or undefined when none exists. */
export function choosePath(snap: NetworkSnapshot, src: Endpoint, dst: Endpoint, key: FlowKey, opts: ForwardingOptions): HostPath | undefined {
  const paths = hostPaths(graphOf(snap), src, dst, { limit: opts.maxPaths });
  if (paths.length === 0) return undefined;
  return paths[opts.ecmp ? flowHash(key) % paths.length : 0];
}

export interface PacketInput {
  readonly at: Endpoint;
  readonly frame: Frame;
  /** The whole frame as received, resent in packet-outs. */
  readonly data: Buffer;
}

export function handlePacket(state: ForwardingState, snap: NetworkSnapshot, p: PacketInput, opts: ForwardingOptions): Plan {
  const l3 = p.frame.l3;
  switch (l3.kind) {
    case 'arp':
      return handleArp(state, snap, p, l3.arp, opts);
    case 'ipv4':
      return handleIpv4(state, snap, p, opts);
    case 'lldp':
    case 'foreign_lldp':
    case 'other':
      // Discovery frames are never forwarded; other protocols have no route of ours.
      return nothing(state);
    default:
      return assertNever(l3);
  }
}

function handleArp(state: ForwardingState, snap: NetworkSnapshot, p: PacketInput, arp: ArpPacket, opts: ForwardingOptions): Plan {
  if (arp.op === ARP_REQUEST && arp.senderIp !== arp.targetIp) {
    const target = hostByIp(snap.hosts, arp.targetIp);
    // Proxy ARP: answer for a known host straight back out of the asking port; no flood at all.
    if (target !== undefined && target.mac !== arp.senderMac) {
      const reply = buildEthernet({
        dst: arp.senderMac,
        src: target.mac,
        ethType: ETH_TYPE_ARP,
        payload: buildArp(arpReplyTo(arp, target.mac)),
      });
      return { state, programs: [], packetOuts: [{ dpid: p.at.dpid, messages: [packetOut(OFPP_CONTROLLER, [p.at.port], reply)] }] };
    }
  }
  return deliverOrFlood(state, snap, p, opts);
}

function handleIpv4(state: ForwardingState, snap: NetworkSnapshot, p: PacketInput, opts: ForwardingOptions): Plan {
  const { eth, l3 } = p.frame;
  if (l3.kind !== 'ipv4') return nothing(state);
  const dst = isMulticastMac(eth.dst) ? undefined : snap.hosts.get(eth.dst);
  if (dst === undefined) return deliverOrFlood(state, snap, p, opts);
  const src = snap.hosts.get(eth.src);
  // A source we never saw at an edge (the packet came in over a link whose rule expired first):
  // its path starts at the source, which we do not know, so the packet is dropped.
  if (src === undefined) return nothing(state);
  const key = flowKeyOf(l3.ip, opts.ecmp);
  const route = routeFlow(state, snap, key, src, dst, opts);
  const hop = route.flow?.hops.find((h) => h.dpid === p.at.dpid);
  const out = hop ? [{ dpid: hop.dpid, messages: [packetOut(p.at.port, [hop.outPort], p.data)] }] : [];
  return { state: route.state, programs: route.programs, packetOuts: out };
}

interface Routed {
  readonly state: ForwardingState;
  readonly programs: SwitchProgram[];
  readonly flow: RoutedFlow | undefined;
}

/** (Re)installs one flow between two hosts; replaces, and then removes, an older install of it. */
function routeFlow(state: ForwardingState, snap: NetworkSnapshot, key: FlowKey, src: Host, dst: Host, opts: ForwardingOptions): Routed {
  const id = flowKeyString(key);
  const old = state.flows.get(id);
  const path = choosePath(snap, src.at, dst.at, key, opts);
  const flows = new Map(state.flows);
  if (path === undefined) {
    flows.delete(id);
    return { state: { ...state, flows }, programs: old ? removeProgram(old) : [], flow: undefined };
  }
  const same = old !== undefined && sameHops(old.hops, path.hops);
  // A packet-in for a flow we installed means a rule idled out somewhere: re-add under the same cookie.
  const cookie = same ? old.cookie : FORWARDING_COOKIE_TAG | state.nextFlowId;
  const flow: RoutedFlow = { key, cookie, srcMac: src.mac, dstMac: dst.mac, hops: path.hops, linkIds: path.linkIds };
  flows.set(id, flow);
  // New rules replace old ones with an identical match in place (and take the new cookie), so
  // deleting the old cookie afterwards removes only what the new path no longer uses.
  const programs = [...planPath(path.hops, key, cookie, opts), ...(old && !same ? removeProgram(old) : [])];
  return { state: { ...state, flows, nextFlowId: same ? state.nextFlowId : state.nextFlowId + 1n }, programs, flow };
}

function removeProgram(flow: RoutedFlow): SwitchProgram[] {
  return flow.hops.map((h) => ({ dpid: h.dpid, messages: [deleteByCookie(flow.cookie)] }));
}

function sameHops(a: readonly Hop[], b: readonly Hop[]): boolean {
  return a.length === b.length && a.every((h, i) => h.dpid === b[i]?.dpid && h.inPort === b[i]?.inPort && h.outPort === b[i]?.outPort);
}

/** A unicast frame to a known host goes straight to its port; anything else floods the edge. */
function deliverOrFlood(state: ForwardingState, snap: NetworkSnapshot, p: PacketInput, opts: ForwardingOptions): Plan {
  const eth = p.frame.eth;
  const known = isMulticastMac(eth.dst) ? undefined : snap.hosts.get(eth.dst);
  if (known !== undefined) {
    if (sameEndpoint(known.at, p.at)) return nothing(state);
    const inPort = known.at.dpid === p.at.dpid ? p.at.port : OFPP_CONTROLLER;
    return { state, programs: [], packetOuts: [{ dpid: known.at.dpid, messages: [packetOut(inPort, [known.at.port], p.data)] }] };
  }
  return floodEdge(state, snap, p, eth, opts);
}

/**
 * Floods to hosts only: every settled edge port of every switch but the one the frame came in on.
 * Switch-to-switch ports never flood, so a loop in the cabling cannot loop a broadcast.
 */
function floodEdge(state: ForwardingState, snap: NetworkSnapshot, p: PacketInput, eth: EthernetFrame, opts: ForwardingOptions): Plan {
  const fingerprint = `${eth.src}|${eth.dst}|${eth.ethType}|${p.data.subarray(14).toString('base64')}`;
  const last = state.recentFloods.get(fingerprint);
  if (last !== undefined && snap.now - last < opts.floodDedupMs) return nothing(state);
  const recentFloods = new Map([...state.recentFloods].filter(([, t]) => snap.now - t < opts.floodDedupMs));
  recentFloods.set(fingerprint, snap.now);
  const bySwitch = new Map<string, number[]>();
  for (const e of edgePorts(snap)) {
    if (sameEndpoint(e, p.at)) continue;
    bySwitch.set(e.dpid, [...(bySwitch.get(e.dpid) ?? []), e.port]);
  }
  const packetOuts = [...bySwitch].map(([dpid, ports]) => ({
    dpid,
    messages: [packetOut(dpid === p.at.dpid ? p.at.port : OFPP_CONTROLLER, ports, p.data)],
  }));
  return { state: { ...state, recentFloods }, programs: [], packetOuts };
}

/** Keeps installed flows true to the topology: off dead links, after moved hosts, away from gone ones. */
export function handleTopology(state: ForwardingState, snap: NetworkSnapshot, ev: TopologyEvent, opts: ForwardingOptions): Plan {
  switch (ev.type) {
    case 'link_down':
      return reroute(state, snap, (f) => f.linkIds.includes(ev.link.id), opts);
    case 'host_moved':
    case 'host_removed':
      return reroute(state, snap, (f) => f.srcMac === ev.host.mac || f.dstMac === ev.host.mac, opts);
    case 'link_up':
    case 'host_added':
      // Existing flows keep their paths: moving working flows onto a new link would reorder them.
      return nothing(state);
    default:
      return assertNever(ev);
  }
}

function reroute(state: ForwardingState, snap: NetworkSnapshot, affected: (f: RoutedFlow) => boolean, opts: ForwardingOptions): Plan {
  let next = state;
  const programs: SwitchProgram[] = [];
  for (const flow of [...state.flows.values()].filter(affected)) {
    const src = snap.hosts.get(flow.srcMac);
    const dst = snap.hosts.get(flow.dstMac);
    if (src === undefined || dst === undefined) {
      const flows = new Map(next.flows);
      flows.delete(flowKeyString(flow.key));
      next = { ...next, flows };
      programs.push(...removeProgram(flow));
      continue;
    }
    const r = routeFlow(next, snap, flow.key, src, dst, opts);
    next = r.state;
    programs.push(...r.programs);
  }
  return { state: next, programs, packetOuts: [] };
}

/**
 * The ingress rule of a flow idled out (or was deleted): the flow is over. Its rules elsewhere
 * are removed rather than left to idle out on their own.
 */
export function handleFlowRemoved(state: ForwardingState, dpid: string, cookie: bigint): Plan {
  const flow = [...state.flows.values()].find((f) => f.cookie === cookie);
  if (flow === undefined || flow.hops[0]?.dpid !== dpid) return nothing(state);
  const flows = new Map(state.flows);
  flows.delete(flowKeyString(flow.key));
  return { state: { ...state, flows }, programs: removeProgram(flow).filter((p) => p.dpid !== dpid), packetOuts: [] };
}

function assertNever(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}

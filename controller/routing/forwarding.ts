// Forwarding as a function: (flow table, network snapshot, input) → {changes to the flow table,
// programs, packet-outs}. Nothing here sends, reads a clock or changes its inputs; the Forwarding
// service applies the changes to its FlowTable and executes the rest. Each step costs what it
// touches: flows by key, cookie, link or host from the table's indexes, paths from the
// per-destination tables (topology/shortest.ts), edge ports from the snapshot's index.
//
// ECMP choice: per-flow hashing in the controller. Among the equal-cost paths (sorted by link id),
// flow k takes path flowHash(k) mod n, and its rules match the 5-tuple, so different TCP/UDP
// connections between the same hosts spread over the paths while each keeps one path (no
// reordering). Select groups would spread in the switch instead, but then the controller could not
// say which path a flow takes (for /paths, for moving one flow off a link) and OVS's select hash
// differs by version. With ecmp off, a flow is the address pair and always takes the first path.
import type { Outgoing } from '../session.ts';
import { OFPFF_SEND_FLOW_REM, OFPP_CONTROLLER } from 'openflow-ts';
import { arpReplyTo, buildArp, buildEthernet, ETH_TYPE_ARP, ARP_REQUEST, isMulticastMac, type ArpPacket, type EthernetFrame, type Frame } from '../packet/index.ts';
import type { NetworkSnapshot } from '../topology/snapshot.ts';
import { sameEndpoint, type Endpoint, type Host, type TopologyEvent } from '../topology/types.ts';
import { forwardingCookie } from '../cookies.ts';
import { flowHash, flowKeyOf, flowKeyString, flowMatch, flowPriority, type FlowKey } from './flowkey.ts';
import { hostPathAt, type Hop, type HostPath } from './paths.ts';
import { addFlow, deleteByCookie, packetOut } from './ofmsg.ts';
import type { FlowChange, FlowView, RoutedFlow } from './flow-table.ts';

export { FORWARDING_COOKIE_TAG } from '../cookies.ts';
export { FlowTable, type FlowChange, type FlowView, type RoutedFlow } from './flow-table.ts';

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

/** Messages for one switch, applied in order and followed by a barrier before the next program. */
export interface SwitchProgram {
  readonly dpid: string;
  readonly messages: readonly Outgoing[];
}

export interface Plan {
  /** For the FlowTable to apply (FlowTable.apply) before the next plan is made. */
  readonly changes: readonly FlowChange[];
  /** Run in waves (programs.ts), each to its barrier: rules first, deletes of replaced rules last. */
  readonly programs: readonly SwitchProgram[];
  /** Sent once every program is applied. */
  readonly packetOuts: readonly SwitchProgram[];
}

const NOTHING: Plan = { changes: [], programs: [], packetOuts: [] };

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

/**
 * The path a flow between two hosts takes (the ECMP pick among the first maxPaths equal-cost
 * paths, in link-id order), or undefined when none exists.
 */
export function choosePath(snap: NetworkSnapshot, src: Endpoint, dst: Endpoint, key: FlowKey, opts: ForwardingOptions): HostPath | undefined {
  return hostPathAt(snap, src, dst, (n) => (opts.ecmp ? flowHash(key) % Math.min(n, opts.maxPaths) : 0));
}

export interface PacketInput {
  readonly at: Endpoint;
  readonly frame: Frame;
  /** The whole frame as received, resent in packet-outs. */
  readonly data: Buffer;
}

export function handlePacket(flows: FlowView, snap: NetworkSnapshot, p: PacketInput, opts: ForwardingOptions): Plan {
  const l3 = p.frame.l3;
  switch (l3.kind) {
    case 'arp':
      return handleArp(flows, snap, p, l3.arp, opts);
    case 'ipv4':
      return handleIpv4(flows, snap, p, opts);
    case 'lldp':
    case 'foreign_lldp':
    case 'other':
      // Discovery frames are never forwarded; other protocols have no route of ours.
      return NOTHING;
    default:
      return assertNever(l3);
  }
}

function handleArp(flows: FlowView, snap: NetworkSnapshot, p: PacketInput, arp: ArpPacket, opts: ForwardingOptions): Plan {
  if (arp.op === ARP_REQUEST && arp.senderIp !== arp.targetIp) {
    const target = snap.hosts.byIp(arp.targetIp);
    // Proxy ARP: answer for a known host straight back out of the asking port; no flood at all.
    if (target !== undefined && target.mac !== arp.senderMac) {
      const reply = buildEthernet({
        dst: arp.senderMac,
        src: target.mac,
        ethType: ETH_TYPE_ARP,
        payload: buildArp(arpReplyTo(arp, target.mac)),
      });
      return { changes: [], programs: [], packetOuts: [{ dpid: p.at.dpid, messages: [packetOut(OFPP_CONTROLLER, [p.at.port], reply)] }] };
    }
  }
  return deliverOrFlood(flows, snap, p, opts);
}

function handleIpv4(flows: FlowView, snap: NetworkSnapshot, p: PacketInput, opts: ForwardingOptions): Plan {
  const { eth, l3 } = p.frame;
  if (l3.kind !== 'ipv4') return NOTHING;
  const dst = isMulticastMac(eth.dst) ? undefined : snap.hosts.get(eth.dst);
  if (dst === undefined) return deliverOrFlood(flows, snap, p, opts);
  const src = snap.hosts.get(eth.src);
  // A source we never saw at an edge (the packet came in over a link whose rule expired first):
  // its path starts at the source, which we do not know, so the packet is dropped.
  if (src === undefined) return NOTHING;
  const key = flowKeyOf(l3.ip, opts.ecmp);
  const changes: FlowChange[] = [];
  const programs: SwitchProgram[] = [];
  const flow = routeFlow(flows, snap, key, src, dst, opts, { next: flows.nextFlowId }, changes, programs);
  const hop = flow?.hops.find((h) => h.dpid === p.at.dpid);
  const out = hop ? [{ dpid: hop.dpid, messages: [packetOut(p.at.port, [hop.outPort], p.data)] }] : [];
  return { changes, programs, packetOuts: out };
}

/** Flow numbers handed out while one plan is made (the table learns them when it applies it). */
interface Numbering {
  next: bigint;
}

/**
 * (Re)installs one flow between two hosts; replaces, and then removes, an older install of it.
 * Appends to changes and programs; returns the flow as installed, or undefined when there is no path.
 */
function routeFlow(
  flows: FlowView,
  snap: NetworkSnapshot,
  key: FlowKey,
  src: Host,
  dst: Host,
  opts: ForwardingOptions,
  numbering: Numbering,
  changes: FlowChange[],
  programs: SwitchProgram[],
): RoutedFlow | undefined {
  const id = flowKeyString(key);
  const old = flows.get(id);
  const path = choosePath(snap, src.at, dst.at, key, opts);
  if (path === undefined) {
    if (old !== undefined) {
      changes.push({ op: 'delete', id });
      programs.push(...removeProgram(old));
    }
    return undefined;
  }
  const same = old !== undefined && sameHops(old.hops, path.hops);
  // A packet-in for a flow we installed means a rule idled out somewhere: re-add under the same cookie.
  const cookie = same ? old.cookie : forwardingCookie(numbering.next++);
  const flow: RoutedFlow = { key, id, cookie, srcMac: src.mac, dstMac: dst.mac, hops: path.hops, linkIds: path.linkIds };
  changes.push({ op: 'put', flow });
  // New rules replace old ones with an identical match in place (and take the new cookie), so
  // deleting the old cookie afterwards removes only what the new path no longer uses.
  programs.push(...planPath(path.hops, key, cookie, opts));
  if (old && !same) programs.push(...removeProgram(old));
  return flow;
}

function removeProgram(flow: RoutedFlow): SwitchProgram[] {
  return flow.hops.map((h) => ({ dpid: h.dpid, messages: [deleteByCookie(flow.cookie)] }));
}

function sameHops(a: readonly Hop[], b: readonly Hop[]): boolean {
  return a.length === b.length && a.every((h, i) => h.dpid === b[i]?.dpid && h.inPort === b[i]?.inPort && h.outPort === b[i]?.outPort);
}

/** A unicast frame to a known host goes straight to its port; anything else floods the edge. */
function deliverOrFlood(flows: FlowView, snap: NetworkSnapshot, p: PacketInput, opts: ForwardingOptions): Plan {
  const eth = p.frame.eth;
  const known = isMulticastMac(eth.dst) ? undefined : snap.hosts.get(eth.dst);
  if (known !== undefined) {
    if (sameEndpoint(known.at, p.at)) return NOTHING;
    const inPort = known.at.dpid === p.at.dpid ? p.at.port : OFPP_CONTROLLER;
    return { changes: [], programs: [], packetOuts: [{ dpid: known.at.dpid, messages: [packetOut(inPort, [known.at.port], p.data)] }] };
  }
  return floodEdge(flows, snap, p, eth, opts);
}

/**
 * Floods to hosts only: every settled edge port of every switch but the one the frame came in on.
 * Switch-to-switch ports never flood, so a loop in the cabling cannot loop a broadcast. O(edge ports).
 */
function floodEdge(flows: FlowView, snap: NetworkSnapshot, p: PacketInput, eth: EthernetFrame, opts: ForwardingOptions): Plan {
  const fingerprint = `${eth.src}|${eth.dst}|${eth.ethType}|${p.data.subarray(14).toString('base64')}`;
  const last = flows.lastFlood(fingerprint);
  if (last !== undefined && snap.now - last < opts.floodDedupMs) return NOTHING;
  const packetOuts: SwitchProgram[] = [];
  for (const [dpid, edge] of snap.edges) {
    const ports: number[] = [];
    for (const info of edge.values()) {
      if (snap.now - info.upSince < snap.settleMs || (dpid === p.at.dpid && info.port === p.at.port)) continue;
      ports.push(info.port);
    }
    if (ports.length > 0) packetOuts.push({ dpid, messages: [packetOut(dpid === p.at.dpid ? p.at.port : OFPP_CONTROLLER, ports, p.data)] });
  }
  return { changes: [{ op: 'flooded', fingerprint, at: snap.now, windowMs: opts.floodDedupMs }], programs: [], packetOuts };
}

/** Keeps installed flows true to the topology: off dead links, after moved hosts, away from gone ones. */
export function handleTopology(flows: FlowView, snap: NetworkSnapshot, ev: TopologyEvent, opts: ForwardingOptions): Plan {
  switch (ev.type) {
    case 'link_down':
      return reroute(flows, snap, flows.onLink(ev.link.id), opts);
    case 'host_moved':
    case 'host_removed':
      return reroute(flows, snap, flows.ofHost(ev.host.mac), opts);
    case 'link_up':
    case 'host_added':
      // Existing flows keep their paths: moving working flows onto a new link would reorder them.
      return NOTHING;
    default:
      return assertNever(ev);
  }
}

function reroute(flows: FlowView, snap: NetworkSnapshot, affected: Iterable<RoutedFlow>, opts: ForwardingOptions): Plan {
  const changes: FlowChange[] = [];
  const programs: SwitchProgram[] = [];
  const numbering = { next: flows.nextFlowId };
  for (const flow of affected) {
    const src = snap.hosts.get(flow.srcMac);
    const dst = snap.hosts.get(flow.dstMac);
    if (src === undefined || dst === undefined) {
      changes.push({ op: 'delete', id: flow.id });
      programs.push(...removeProgram(flow));
      continue;
    }
    routeFlow(flows, snap, flow.key, src, dst, opts, numbering, changes, programs);
  }
  return { changes, programs, packetOuts: [] };
}

/**
 * The ingress rule of a flow idled out (or was deleted): the flow is over. Its rules elsewhere
 * are removed rather than left to idle out on their own.
 */
export function handleFlowRemoved(flows: FlowView, dpid: string, cookie: bigint): Plan {
  const flow = flows.byCookie(cookie);
  if (flow === undefined || flow.hops[0]?.dpid !== dpid) return NOTHING;
  return { changes: [{ op: 'delete', id: flow.id }], programs: removeProgram(flow).filter((p) => p.dpid !== dpid), packetOuts: [] };
}

function assertNever(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}

// What routing needs to know about the network at one instant: switches and their live ports,
// links, hosts, edge ports, shortest paths, and `now`. A snapshot is a view onto the tables that
// TopologyState keeps (nothing is copied per event): read it while planning, before the plan's
// changes are applied. Edge ports are derived here, in one place.
import type { Endpoint } from './types.ts';
import type { LinkTable } from './links.ts';
import type { HostTable } from './hosts.ts';
import type { PathTables } from './shortest.ts';
import { buildGraph, type SwitchGraph } from './graph.ts';

export interface PortInfo {
  readonly port: number;
  /** When the port was last seen to come up (or its switch to join). */
  readonly upSince: number;
  readonly speedKbps: number;
}

/** Ports by switch, then by port number. */
export type PortMap = ReadonlyMap<string, ReadonlyMap<number, PortInfo>>;

export interface NetworkSnapshot {
  readonly now: number;
  /** Live (link-up, not admin-down) physical ports of every ready switch. */
  readonly switches: PortMap;
  /** The live ports with no live link on them, settled or not (see edgePorts). */
  readonly edges: PortMap;
  readonly links: LinkTable;
  readonly hosts: HostTable;
  /** Hop-count shortest paths between switches over the live links, kept per destination. */
  readonly paths: PathTables;
  /**
   * How long a port must be up before a packet may be flooded out of it or a host learned on it.
   * LLDP goes out at once when a port or switch appears, so by then a link on it is known; before,
   * a port that is really a link could pass a flood round a loop.
   */
  readonly settleMs: number;
}

/** The switch graph, built whole: for per-intent planning and monitoring, never per packet. */
export function graphOf(s: NetworkSnapshot): SwitchGraph {
  return buildGraph(s.switches.keys(), s.links.up());
}

/** Every port where hosts may be: up, settled, and with no live link on it. O(edge ports). */
export function edgePorts(s: NetworkSnapshot): Endpoint[] {
  const out: Endpoint[] = [];
  for (const [dpid, ports] of s.edges) {
    for (const p of ports.values()) if (s.now - p.upSince >= s.settleMs) out.push({ dpid, port: p.port });
  }
  return out;
}

export function isEdgePort(s: NetworkSnapshot, at: Endpoint): boolean {
  const info = s.edges.get(at.dpid)?.get(at.port);
  return info !== undefined && s.now - info.upSince >= s.settleMs;
}

// Host-to-host paths: the switch paths of the graph, dressed with the ports a packet enters and
// leaves by at every switch.
import { equalCostPaths, type PathOptions, type SwitchGraph, type SwitchPath } from '../topology/graph.ts';
import type { Endpoint } from '../topology/types.ts';

export interface Hop {
  readonly dpid: string;
  readonly inPort: number;
  readonly outPort: number;
}

/** Ports per switch along a switch path, from the source host's port to the destination's. */
export function hopsOf(path: SwitchPath, from: Endpoint, to: Endpoint): Hop[] {
  const hops: Hop[] = [];
  let at = from;
  for (const link of path) {
    hops.push({ dpid: at.dpid, inPort: at.port, outPort: link.src.port });
    at = link.dst;
  }
  hops.push({ dpid: at.dpid, inPort: at.port, outPort: to.port });
  return hops;
}

export interface HostPath {
  readonly hops: readonly Hop[];
  /** The link ids crossed, so a link going down finds the flows on it. */
  readonly linkIds: readonly string[];
}

/** Every equal-cost path between two attachment points; [] when there is none. */
export function hostPaths(g: SwitchGraph, from: Endpoint, to: Endpoint, opts: PathOptions = {}): HostPath[] {
  // Two hosts on the same port (a hub, or a host talking to itself) need no rule at all.
  if (from.dpid === to.dpid && from.port === to.port) return [];
  return equalCostPaths(g, from.dpid, to.dpid, opts).map((p) => ({ hops: hopsOf(p, from, to), linkIds: p.map((l) => l.id) }));
}

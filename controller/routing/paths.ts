// Host-to-host paths: the switch paths of the per-destination shortest-path tables, dressed with
// the ports a packet enters and leaves by at every switch.
import type { SwitchPath } from '../topology/graph.ts';
import type { NetworkSnapshot } from '../topology/snapshot.ts';
import type { Endpoint, Link } from '../topology/types.ts';

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

const dress = (p: readonly Link[], from: Endpoint, to: Endpoint): HostPath => ({ hops: hopsOf(p, from, to), linkIds: p.map((l) => l.id) });

/** How many equal-cost paths join two attachment points (0: none, or both on one port). */
function pathCount(snap: NetworkSnapshot, from: Endpoint, to: Endpoint): number {
  // Two hosts on the same port (a hub, or a host talking to itself) need no rule at all.
  if (from.dpid === to.dpid && from.port === to.port) return 0;
  // A switch that has left is no way in or out, though its hosts are still in the table.
  if (!snap.switches.has(from.dpid) || !snap.switches.has(to.dpid)) return 0;
  return snap.paths.count(from.dpid, to.dpid);
}

/**
 * One of the equal-cost paths between two attachment points: `pick(count)` names its index in
 * link-id order. O(hops × degree) once the destination's table is built; undefined when none.
 */
export function hostPathAt(snap: NetworkSnapshot, from: Endpoint, to: Endpoint, pick: (count: number) => number): HostPath | undefined {
  const n = pathCount(snap, from, to);
  if (n === 0) return undefined;
  const p = snap.paths.pathAt(from.dpid, to.dpid, pick(n));
  return p === undefined ? undefined : dress(p, from, to);
}

/** The first `limit` equal-cost paths between two attachment points, in link-id order; [] when none. */
export function hostPaths(snap: NetworkSnapshot, from: Endpoint, to: Endpoint, limit = 16): HostPath[] {
  if (pathCount(snap, from, to) === 0) return [];
  return snap.paths.paths(from.dpid, to.dpid, limit).map((p) => dress(p, from, to));
}

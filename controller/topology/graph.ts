// The switch graph: one node per switch, one directed edge per live link direction (a multigraph,
// since two cables may join the same pair), and the equal-cost shortest paths between switches.
import { Graph, alg, type Edge } from '@dagrejs/graphlib';
import type { Link } from './types.ts';

export type SwitchGraph = Graph<unknown, unknown, Link>;

export function buildGraph(switches: Iterable<string>, links: Iterable<Link>): SwitchGraph {
  const g: SwitchGraph = new Graph({ directed: true, multigraph: true });
  for (const dpid of switches) g.setNode(dpid);
  for (const l of links) {
    // A link to a switch that has left is not a way through it.
    if (l.state === 'up' && g.hasNode(l.src.dpid) && g.hasNode(l.dst.dpid)) g.setEdge(l.src.dpid, l.dst.dpid, l, l.id);
  }
  return g;
}

export interface PathOptions {
  /** Cost of one link; hop count when absent. Must be positive. */
  readonly weight?: (link: Link) => number;
  /** Most paths returned; the rest of a large ECMP set is cut in a stable order. */
  readonly limit?: number;
}

/** A path is the links it crosses, in order; [] when src === dst. */
export type SwitchPath = readonly Link[];

/**
 * Every shortest path from src to dst (up to limit), sorted by the link ids they cross so the
 * order, and so any hash over it, is the same on every run.
 */
export function equalCostPaths(g: SwitchGraph, src: string, dst: string, opts: PathOptions = {}): SwitchPath[] {
  if (!g.hasNode(src) || !g.hasNode(dst)) return [];
  if (src === dst) return [[]];
  const weight = opts.weight ?? (() => 1);
  const limit = opts.limit ?? 16;
  const cost = (e: Edge): number => weight(g.edge(e));
  // Distances to dst, found by walking edges backwards from it.
  // graphlib's algorithms are typed for its default label types; ours only narrows the edge label.
  const toDst = alg.dijkstra(g as unknown as Graph, dst, cost, (v) => g.inEdges(v) ?? []);
  const dist = (v: string): number => toDst[v]?.distance ?? Number.POSITIVE_INFINITY;
  if (!Number.isFinite(dist(src))) return [];
  const eps = 1e-9;
  const paths: Link[][] = [];
  const walk = (at: string, acc: Link[]): void => {
    if (paths.length >= limit) return;
    if (at === dst) {
      paths.push([...acc]);
      return;
    }
    // Only edges that keep us on a shortest path: d(at) = w(e) + d(next).
    const next = (g.outEdges(at) ?? [])
      .map((e) => g.edge(e))
      .filter((l) => Math.abs(dist(at) - weight(l) - dist(l.dst.dpid)) < eps)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const l of next) walk(l.dst.dpid, [...acc, l]);
  };
  walk(src, []);
  return paths;
}

export function pathCost(path: SwitchPath, weight: (link: Link) => number = () => 1): number {
  return path.reduce((sum, l) => sum + weight(l), 0);
}

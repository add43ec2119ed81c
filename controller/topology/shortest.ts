// Hop-count shortest paths kept per destination: one breadth-first search backwards from each
// destination switch gives every switch's distance to it, the links that stay on a shortest path
// (the equal-cost DAG) and how many shortest paths leave each switch. A tree is built once per
// topology change and then answers "the i-th shortest path from s" in O(hops × degree), so neither
// a new flow nor a cost-map update runs a search of its own.
import type { Link } from './types.ts';

export interface DestinationTree {
  readonly dst: string;
  /** Hops from each switch that reaches dst; a switch that does not is absent. */
  readonly dist: ReadonlyMap<string, number>;
  /** Out of each switch, the links whose far end is one hop closer to dst, sorted by link id (unless built with sortNext false). */
  readonly next: ReadonlyMap<string, readonly Link[]>;
  /** Shortest paths from each switch to dst (capped at Number.MAX_SAFE_INTEGER). */
  readonly count: ReadonlyMap<string, number>;
  /** The switches that reach dst, nearest first (dst itself first): an order for dynamic programs over the DAG. */
  readonly order: readonly string[];
}

/** Where the trees read the network: live links into a switch (both ends' switches present). */
export type LinksInto = (dpid: string) => Iterable<Link>;

const byId = (a: Link, b: Link): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export interface TreeOptions {
  /** Sort each switch's `next` links by id (default). Readers that never rank paths may skip it: it is most of a tree's cost. */
  readonly sortNext?: boolean;
}

export function destinationTree(dst: string, linksInto: LinksInto, opts: TreeOptions = {}): DestinationTree {
  const sortNext = opts.sortNext ?? true;
  const dist = new Map<string, number>([[dst, 0]]);
  const next = new Map<string, Link[]>();
  const order: string[] = [dst];
  for (let i = 0; i < order.length; i++) {
    const v = order[i] as string;
    const d = dist.get(v) as number;
    for (const l of linksInto(v)) {
      const u = l.src.dpid;
      const du = dist.get(u);
      if (du === undefined) {
        dist.set(u, d + 1);
        order.push(u);
        next.set(u, [l]);
      } else if (du === d + 1) {
        (next.get(u) as Link[]).push(l);
      }
    }
  }
  const count = new Map<string, number>([[dst, 1]]);
  for (let i = 1; i < order.length; i++) {
    const v = order[i] as string;
    const out = next.get(v) as Link[];
    if (sortNext) out.sort(byId);
    let n = 0;
    for (const l of out) n += count.get(l.dst.dpid) as number;
    count.set(v, Math.min(n, Number.MAX_SAFE_INTEGER));
  }
  return { dst, dist, next, count, order };
}

/**
 * The index-th shortest path from src (0-based, in the lexicographic order of the link ids it
 * crosses); [] when src is dst, undefined when src does not reach dst or index is out of range.
 */
export function pathAt(tree: DestinationTree, src: string, index: number): Link[] | undefined {
  const total = tree.count.get(src);
  if (total === undefined || index < 0 || index >= total) return undefined;
  const path: Link[] = [];
  let at = src;
  let i = index;
  while (at !== tree.dst) {
    let chosen: Link | undefined;
    for (const l of tree.next.get(at) ?? []) {
      const c = tree.count.get(l.dst.dpid) as number;
      if (i < c) {
        chosen = l;
        break;
      }
      i -= c;
    }
    if (chosen === undefined) return undefined;
    path.push(chosen);
    at = chosen.dst.dpid;
  }
  return path;
}

/** The first `limit` shortest paths from src, in pathAt's order. */
export function pathsFrom(tree: DestinationTree, src: string, limit = 16): Link[][] {
  const n = Math.min(tree.count.get(src) ?? 0, limit);
  const out: Link[][] = [];
  for (let i = 0; i < n; i++) out.push(pathAt(tree, src, i) as Link[]);
  return out;
}

/**
 * Trees for every destination asked for, built on first use and dropped together when the
 * topology changes. `version` counts the changes, so a reader can tell whether what it derived
 * from the trees is still current.
 */
export class PathTables {
  private readonly trees = new Map<string, DestinationTree>();
  private changes = 0;

  constructor(private readonly linksInto: LinksInto) {}

  get version(): number {
    return this.changes;
  }

  /** Links or switches came or went: every tree is stale. */
  invalidate(): void {
    this.trees.clear();
    this.changes++;
  }

  tree(dst: string): DestinationTree {
    let t = this.trees.get(dst);
    if (t === undefined) {
      t = destinationTree(dst, this.linksInto);
      this.trees.set(dst, t);
    }
    return t;
  }

  /** How many shortest paths lead from src to dst (0: none; 1 when src is dst). */
  count(src: string, dst: string): number {
    return this.tree(dst).count.get(src) ?? 0;
  }

  pathAt(src: string, dst: string, index: number): Link[] | undefined {
    return pathAt(this.tree(dst), src, index);
  }

  paths(src: string, dst: string, limit = 16): Link[][] {
    return pathsFrom(this.tree(dst), src, limit);
  }
}

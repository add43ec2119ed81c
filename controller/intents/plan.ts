// Planning one intent as a pure function: (switch graph, link utilization, intent, host table) →
// the path it should take now, both directions, or why there is none. Nothing here reads a clock
// or a socket; reconcile.ts decides whether a planned path is worth moving to.
import { buildGraph, equalCostPaths, type SwitchGraph, type SwitchPath } from '../topology/graph.ts';
import type { HostTable } from '../topology/hosts.ts';
import { hopsOf } from '../routing/paths.ts';
import type { LinkLoad } from '../monitor/assess.ts';
import type { Host, Link } from '../topology/types.ts';
import type { AvoidItem, IntentPath, IntentSpec, Policy } from './types.ts';

/** Utilization (rate / capacity) by link id. */
export type Utilization = ReadonlyMap<string, number>;

export function utilizationOf(loads: Iterable<LinkLoad>): Utilization {
  return new Map([...loads].map((l) => [l.linkId, l.level === 'down' ? 0 : l.utilization]));
}

/**
 * invalid: the request itself cannot hold (an explicit walk that is not one); refused at creation.
 * no_path: nothing fits right now; the intent waits, unsatisfiable, for the network to change.
 */
export type PlanResult =
  | { readonly ok: true; readonly path: IntentPath }
  | { readonly ok: false; readonly kind: 'invalid' | 'no_path'; readonly error: string };

export interface PlanOptions {
  /** Bottlenecks closer than this count as equal, and then the path with fewer hops wins. */
  readonly tieBand: number;
  /**
   * Utilization the intent's own traffic puts on links (by id). It is taken off before paths are
   * compared, so a least-congested intent never flees the load it brings itself.
   */
  readonly own?: Utilization;
}

export const reverseLinkId = (id: string): string => id.split('-').reverse().join('-');

/** The attachment of an intent's end: by MAC, or by address when the machine behind it changed. */
export function endOf(hosts: HostTable, mac: string, ip: string): Host | undefined {
  return hosts.get(mac) ?? hosts.byIp(ip);
}

export function planIntent(graph: SwitchGraph, loads: Utilization, spec: IntentSpec, hosts: HostTable, opts: PlanOptions): PlanResult {
  const src = endOf(hosts, spec.srcMac, spec.traffic.srcIp);
  const dst = endOf(hosts, spec.dstMac, spec.traffic.dstIp);
  if (src === undefined || dst === undefined) {
    return noPath(`host "${src === undefined ? spec.src : spec.dst}" is not attached to the network now`);
  }
  if (src.at.dpid === dst.at.dpid && src.at.port === dst.at.port) return { ok: false, kind: 'invalid', error: 'src and dst are attached to the same port' };
  // Only cables up in both directions: the reverse rules take the way back over the same cable.
  const usable = cables(graph);
  const byId = new Map(usable.map((l) => [l.id, l]));
  const util = (l: Link): number => Math.max(used(loads, opts.own, l.id), used(loads, opts.own, reverseLinkId(l.id)));
  const chosen = choose(spec.policy, graph.nodes(), usable, src.at.dpid, dst.at.dpid, util, opts.tieBand);
  if (!chosen.ok) return chosen;
  const path = chosen.path;
  const back = [...path].reverse().map((l) => byId.get(reverseLinkId(l.id)) as Link);
  return {
    ok: true,
    path: {
      switches: [src.at.dpid, ...path.map((l) => l.dst.dpid)],
      hops: hopsOf(path, src.at, dst.at),
      links: path.map((l) => l.id),
      reverseHops: hopsOf(back, dst.at, src.at),
      reverseLinks: back.map((l) => l.id),
      bottleneck: bottleneck(path, util),
    },
  };
}

type Chosen = { readonly ok: true; readonly path: SwitchPath } | { readonly ok: false; readonly kind: 'invalid' | 'no_path'; readonly error: string };

function choose(policy: Policy, nodes: readonly string[], usable: readonly Link[], s: string, d: string, util: (l: Link) => number, tieBand: number): Chosen {
  switch (policy.name) {
    case 'shortest':
      return first(equalCostPaths(buildGraph(nodes, usable), s, d, { limit: 1 }), `no path from ${s} to ${d} over the links that are up`);
    case 'avoid': {
      const kept = usable.filter((l) => !policy.avoid.some((a) => avoids(a, l)));
      return first(equalCostPaths(buildGraph(nodes, kept), s, d, { limit: 1 }), `no path from ${s} to ${d} over the links that are up and not avoided`);
    }
    case 'least-congested':
      return leastCongested(nodes, usable, s, d, util, tieBand);
    case 'explicit':
      return walk(policy.switches, usable, s, d);
    default:
      return assertNever(policy);
  }
}

/**
 * The path with the lowest bottleneck, ties (within tieBand) broken by hop count: find the lowest
 * threshold at which src still reaches dst, then the fewest-hop paths among links at most that
 * loaded (plus the band), then the least loaded of those.
 */
function leastCongested(nodes: readonly string[], usable: readonly Link[], s: string, d: string, util: (l: Link) => number, tieBand: number): Chosen {
  const noWay = `no path from ${s} to ${d} over the links that are up`;
  const thresholds = [...new Set(usable.map(util))].sort((a, b) => a - b);
  if (s === d) return { ok: true, path: [] };
  const lowest = thresholds.find((t) => equalCostPaths(buildGraph(nodes, usable.filter((l) => util(l) <= t)), s, d, { limit: 1 }).length > 0);
  if (lowest === undefined) return { ok: false, kind: 'no_path', error: noWay };
  const band = usable.filter((l) => util(l) <= lowest + tieBand);
  const paths = equalCostPaths(buildGraph(nodes, band), s, d, { limit: 64 });
  const best = paths.reduce<SwitchPath | undefined>((b, p) => (b === undefined || bottleneck(p, util) < bottleneck(b, util) ? p : b), undefined);
  return best === undefined ? { ok: false, kind: 'no_path', error: noWay } : { ok: true, path: best };
}

/** An explicit path must be a walk of live cables from src's switch to dst's, visiting no switch twice. */
function walk(switches: readonly string[], usable: readonly Link[], s: string, d: string): Chosen {
  const invalid = (error: string): Chosen => ({ ok: false, kind: 'invalid', error });
  if (switches[0] !== s) return invalid(`explicit path starts at ${switches[0] ?? 'nothing'}, but src is attached to ${s}`);
  if (switches.at(-1) !== d) return invalid(`explicit path ends at ${switches.at(-1) ?? 'nothing'}, but dst is attached to ${d}`);
  const twice = switches.find((x, i) => switches.indexOf(x) !== i);
  if (twice !== undefined) return invalid(`explicit path visits ${twice} twice`);
  const path: Link[] = [];
  for (let i = 0; i + 1 < switches.length; i++) {
    const [a, b] = [switches[i] as string, switches[i + 1] as string];
    const ab = usable.filter((l) => l.src.dpid === a && l.dst.dpid === b).sort((x, y) => (x.id < y.id ? -1 : 1))[0];
    if (ab === undefined) {
      // Name the direction that is missing: a cable proved one way only is no cable for the class.
      const forward = usable.some((l) => l.src.dpid === b && l.dst.dpid === a);
      const [from, to] = forward ? [b, a] : [a, b];
      return invalid(`explicit path is not a walk of live links: no link ${from}→${to}`);
    }
    path.push(ab);
  }
  return { ok: true, path };
}

export function avoids(item: AvoidItem, l: Link): boolean {
  if (item.kind === 'link') return l.id === item.id || l.id === reverseLinkId(item.id);
  return (l.src.dpid === item.a && l.dst.dpid === item.b) || (l.src.dpid === item.b && l.dst.dpid === item.a);
}

/** Live link directions whose reverse direction is live too. */
function cables(g: SwitchGraph): Link[] {
  const all = g.edges().map((e) => g.edge(e));
  const ids = new Set(all.map((l) => l.id));
  return all.filter((l) => ids.has(reverseLinkId(l.id)));
}

function used(loads: Utilization, own: Utilization | undefined, id: string): number {
  return Math.max(0, (loads.get(id) ?? 0) - (own?.get(id) ?? 0));
}

export function bottleneck(path: SwitchPath, util: (l: Link) => number): number {
  return path.reduce((m, l) => Math.max(m, util(l)), 0);
}

function first(paths: SwitchPath[], error: string): Chosen {
  const p = paths[0];
  return p === undefined ? { ok: false, kind: 'no_path', error } : { ok: true, path: p };
}

function noPath(error: string): PlanResult {
  return { ok: false, kind: 'no_path', error };
}

function assertNever(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}

/** A held path's bottleneck under today's loads (both directions of each cable, own traffic taken off). */
export function loadOf(path: IntentPath, loads: Utilization, own?: Utilization): number {
  return path.links.reduce((m, id) => Math.max(m, used(loads, own, id), used(loads, own, reverseLinkId(id))), 0);
}

// The cost map from scratch, by brute force: for each pair, every shortest path enumerated, its
// figures taken link by link, the hop layers as sets of links. Slow and obviously right: the oracle
// the incremental cost map is checked against.
import type { Link } from '../../../controller/topology/types.ts';
import { quantize, roomOf, SEVERITY, unreachable, type CostEntry } from '../../../controller/monitor/costmap.ts';
import type { Level } from '../../../controller/monitor/levels.ts';

export interface RefLoad {
  readonly utilization: number;
  readonly level: Level;
}

const LEVELS: readonly Level[] = ['ok', 'warning', 'congested', 'down'];

function hopsFrom(start: string, step: (v: string) => Iterable<string>): Map<string, number> {
  const dist = new Map([[start, 0]]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of step(v)) {
      if (!dist.has(w)) {
        dist.set(w, dist.get(v)! + 1);
        queue.push(w);
      }
    }
  }
  return dist;
}

export function referenceEntry(links: readonly Link[], loads: ReadonlyMap<string, RefLoad>, src: string, dst: string): CostEntry {
  const live = links.filter((l) => l.state === 'up');
  const out = (v: string) => live.filter((l) => l.src.dpid === v);
  const fromSrc = hopsFrom(src, (v) => out(v).map((l) => l.dst.dpid));
  const toDst = hopsFrom(dst, (v) => live.filter((l) => l.dst.dpid === v).map((l) => l.src.dpid));
  const hops = fromSrc.get(dst);
  if (hops === undefined || hops === 0) return unreachable(dst);
  const paths: Link[][] = [];
  const walk = (v: string, acc: Link[]): void => {
    if (v === dst) return void paths.push([...acc]);
    for (const l of out(v)) {
      if (fromSrc.get(v)! + 1 + (toDst.get(l.dst.dpid) ?? Infinity) === hops) walk(l.dst.dpid, [...acc, l]);
    }
  };
  walk(src, []);
  const u = (l: Link) => quantize(loads.get(l.id)?.utilization ?? 0);
  const room = (l: Link) => roomOf(l.capacityBps, u(l));
  const sev = (l: Link) => SEVERITY[loads.get(l.id)?.level ?? 'ok'];
  const perPath = paths.map((p) => ({
    u: Math.max(...p.map(u)),
    room: Math.min(...p.map(room)),
    sev: Math.max(...p.map(sev)),
  }));
  const layers: Map<string, Link>[] = Array.from({ length: hops }, () => new Map());
  for (const p of paths) p.forEach((l, i) => layers[i]!.set(l.id, l));
  return {
    dstPid: dst,
    hops,
    paths: paths.length,
    bottleneckUtilization: Math.min(...perPath.map((p) => p.u)),
    availableBps: Math.max(...perPath.map((p) => p.room)),
    worstUtilization: Math.max(...perPath.map((p) => p.u)),
    worstAvailableBps: Math.min(...perPath.map((p) => p.room)),
    aggregateBps: Math.min(...layers.map((layer) => [...layer.values()].reduce((a, l) => a + room(l), 0))),
    level: LEVELS[Math.min(...perPath.map((p) => p.sev))]!,
    worstLevel: LEVELS[Math.max(...perPath.map((p) => p.sev))]!,
  };
}

/** Every row, src → entries in dstPid order. */
export function referenceRows(links: readonly Link[], loads: ReadonlyMap<string, RefLoad>, pids: readonly string[]): Map<string, CostEntry[]> {
  const sorted = [...new Set(pids)].sort();
  return new Map(sorted.map((s) => [s, sorted.filter((d) => d !== s).map((d) => referenceEntry(links, loads, s, d))]));
}

// The cost map (after IETF ALTO): for each attachment point (a switch with hosts), the cost of
// reaching every other one: the bottleneck utilization, the room left, the hop count and the level of
// the path. Where several shortest paths exist each gets an entry, the least loaded first, so a
// reader sees the loaded path as costlier than the idle one.
import { equalCostPaths, type SwitchGraph } from '../topology/graph.ts';
import type { Level } from './levels.ts';
import type { LinkLoad } from './assess.ts';

export interface CostEntry {
  readonly dstPid: string;
  readonly bottleneckUtilization: number;
  readonly availableBps: number;
  readonly hops: number;
  readonly level: Level;
  readonly path: string[];
}

const severity: Record<Level, number> = { ok: 0, warning: 1, congested: 2, down: 3 };

export function costRow(g: SwitchGraph, src: string, attachments: readonly string[], loads: ReadonlyMap<string, LinkLoad>): CostEntry[] {
  const row: CostEntry[] = [];
  for (const dst of attachments) {
    if (dst === src) continue;
    const paths = equalCostPaths(g, src, dst);
    if (paths.length === 0) {
      row.push({ dstPid: dst, bottleneckUtilization: 0, availableBps: 0, hops: 0, level: 'down', path: [] });
      continue;
    }
    const entries = paths.map((path): CostEntry => {
      let util = 0;
      let avail = Number.POSITIVE_INFINITY;
      let level: Level = 'ok';
      for (const link of path) {
        const load = loads.get(link.id);
        const u = load?.utilization ?? 0;
        util = Math.max(util, u);
        avail = Math.min(avail, Math.max(0, link.capacityBps * (1 - u)));
        if (load && severity[load.level] > severity[level]) level = load.level;
      }
      return { dstPid: dst, bottleneckUtilization: round(util), availableBps: Math.round(avail), hops: path.length, level, path: path.map((l) => l.id) };
    });
    entries.sort((a, b) => b.availableBps - a.availableBps || (a.path.join() < b.path.join() ? -1 : 1));
    row.push(...entries);
  }
  return row;
}

/** A row is worth republishing when a level changed or a utilization moved by more than `delta`. */
export function materiallyChanged(a: readonly CostEntry[] | undefined, b: readonly CostEntry[], delta = 0.05): boolean {
  if (!a || a.length !== b.length) return true;
  return b.some((e, i) => {
    const p = a[i]!;
    return (
      p.dstPid !== e.dstPid ||
      p.level !== e.level ||
      p.hops !== e.hops ||
      p.path.join() !== e.path.join() ||
      Math.abs(p.bottleneckUtilization - e.bottleneckUtilization) > delta
    );
  });
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

// The small network the bridge runner tests share: a sidecar on h1 (attachment P1) calling
// `orders`, with replicas on h2 (P2) and h3 (P3), and the cost row that loads h3's path.
import { costColumns, type CostEntry, type HintBody, type Level } from '../../../bus/hints.ts';

export const P1 = '0000000000000001';
export const P2 = '0000000000000002';
export const P3 = '0000000000000003';

/** An entry for a destination reached by one path of 100 Mbit/s links at utilization u. */
export function onePath(dstPid: string, u: number, level: Level = u >= 0.8 ? 'congested' : u >= 0.6 ? 'warning' : 'ok', hops = 2): CostEntry {
  if (level === 'down') {
    return { dstPid, hops: 0, paths: 0, bottleneckUtilization: 0, availableBps: 0, worstUtilization: 0, worstAvailableBps: 0, aggregateBps: 0, level, worstLevel: level };
  }
  const room = Math.round(Math.max(0, 1 - u) * 1e8);
  return { dstPid, hops, paths: 1, bottleneckUtilization: u, availableBps: room, worstUtilization: u, worstAvailableBps: room, aggregateBps: room, level, worstLevel: level };
}

/** P1's cost row with the path to P3 at utilization u (congested from 0.8). */
export function costRowBody(u: number): Extract<HintBody, { kind: 'cost_row' }> {
  return { kind: 'cost_row', srcPid: P1, costs: costColumns([onePath(P2, 0.1), onePath(P3, u)]) };
}

// The small network the bridge runner tests share: a sidecar on h1 (attachment P1) calling
// `orders`, with replicas on h2 (P2) and h3 (P3), and the cost row that loads h3's path.
import { costColumns, type CostEntry, type HintBody, type Level } from '../../../bus/hints.ts';
import { RegistryStore } from '../../../bridge/registry-store.ts';
import { parseRegistry } from '../../../bridge/registry.ts';

export const P1 = '0000000000000001';
export const P2 = '0000000000000002';
export const P3 = '0000000000000003';

/** The network's registry: web-1 on h1 calls orders (latency-sensitive), replicas orders-a on h2 and orders-b on h3. */
export function ordersRegistry(): RegistryStore {
  return new RegistryStore(
    parseRegistry({
      services: [{ name: 'orders', port: 8080, latencySensitive: true }],
      replicas: [
        { id: 'orders-a', service: 'orders', host: 'h2', port: 8080 },
        { id: 'orders-b', service: 'orders', host: 'h3', port: 8080 },
      ],
      sidecars: [{ id: 'web-1', host: 'h1', calls: ['orders'] }],
      attachments: { h1: P1, h2: P2, h3: P3 },
    }),
  );
}

/** The controller's level at utilization u (warning from 0.6, congested from 0.8). */
export const levelAt = (u: number): Level => (u >= 0.8 ? 'congested' : u >= 0.6 ? 'warning' : 'ok');

/** An entry for a destination reached by one path of 100 Mbit/s links at utilization u. */
export function onePath(dstPid: string, u: number, level: Level = levelAt(u), hops = 2): CostEntry {
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

/** An entry for a destination reached by two equal-cost paths (two spines) of `capacityBps` links: the best at utilization `best`, the most loaded at `worst`. */
export function ecmpPaths(dstPid: string, best: number, worst = best, hops = 2, capacityBps = 1e8): CostEntry {
  const room = (u: number): number => Math.round(Math.max(0, 1 - u) * capacityBps);
  return {
    dstPid,
    hops,
    paths: 2,
    bottleneckUtilization: best,
    availableBps: room(best),
    worstUtilization: worst,
    worstAvailableBps: room(worst),
    aggregateBps: room(best) + room(worst),
    level: levelAt(best),
    worstLevel: levelAt(worst),
  };
}

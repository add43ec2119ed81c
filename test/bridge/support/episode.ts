// The small network the bridge runner tests share: a sidecar on h1 (attachment P1) calling
// `orders`, with replicas on h2 (P2) and h3 (P3), and the cost row that loads h3's path.
import type { HintBody } from '../../../bus/hints.ts';

export const P1 = '0000000000000001';
export const P2 = '0000000000000002';
export const P3 = '0000000000000003';

/** P1's cost row with the path to P3 at utilization u (congested from 0.8). */
export function costRowBody(u: number): Extract<HintBody, { kind: 'cost_row' }> {
  return {
    kind: 'cost_row',
    srcPid: P1,
    costs: [
      { dstPid: P2, bottleneckUtilization: 0.1, availableBps: 9e7, hops: 2, level: 'ok' },
      { dstPid: P3, bottleneckUtilization: u, availableBps: (1 - u) * 1e8, hops: 2, level: u >= 0.8 ? 'congested' : 'ok' },
    ],
  };
}

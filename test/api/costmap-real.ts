// The monitor's own cost map (controller/monitor/costmap.ts) on a diamond, for API tests that must
// agree with the real thing: s1 - s2 - s4 and s1 - s3 - s4, 10 Mbit/s each way, hosts on s1, s2, s4.
import { CostMap } from '../../controller/monitor/costmap.ts';
import type { Link } from '../../controller/topology/types.ts';

export const D1 = '00000000000000d1';
export const D2 = '00000000000000d2';
export const D3 = '00000000000000d3';
export const D4 = '00000000000000d4';

const link = (a: string, pa: number, b: string, pb: number): Link => ({
  id: `${a}:${pa}-${b}:${pb}`,
  src: { dpid: a, port: pa },
  dst: { dpid: b, port: pb },
  capacityBps: 10e6,
  state: 'up',
  since: 0,
  lastSeen: 0,
});

export const DIAMOND: readonly Link[] = [
  [D1, 2, D2, 1],
  [D1, 3, D3, 1],
  [D2, 2, D4, 2],
  [D3, 2, D4, 3],
].flatMap(([a, pa, b, pb]) => [link(a as string, pa as number, b as string, pb as number), link(b as string, pb as number, a as string, pa as number)]);

export const linkId = (a: string, pa: number, b: string, pb: number): string => `${a}:${pa}-${b}:${pb}`;

export function diamondCostMap(): CostMap {
  const m = new CostMap();
  m.setStructure(DIAMOND, [D1, D2, D4]);
  return m;
}

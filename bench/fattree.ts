// A k-ary fat-tree as a link table (no switches, no controller): k pods of k/2 edge and k/2
// aggregation switches, (k/2)² cores, every cable as two link directions. Edge switches are the
// attachment points (hosts hang off their other k/2 ports).
import { linkId, type Link } from '../controller/topology/types.ts';

export interface FatTree {
  readonly k: number;
  readonly edges: readonly string[];
  readonly switches: readonly string[];
  readonly links: readonly Link[];
}

const dpidOf = (n: number): string => n.toString(16).padStart(16, '0');

export function fatTree(k: number, capacityBps = 10e9): FatTree {
  if (k < 2 || k % 2 !== 0) throw new RangeError(`k must be even and at least 2, got ${k}`);
  const h = k / 2;
  let n = 1;
  const edge: string[][] = [];
  const agg: string[][] = [];
  for (let p = 0; p < k; p++) edge.push(Array.from({ length: h }, () => dpidOf(n++)));
  for (let p = 0; p < k; p++) agg.push(Array.from({ length: h }, () => dpidOf(n++)));
  const core: string[][] = Array.from({ length: h }, () => Array.from({ length: h }, () => dpidOf(n++)));
  const links: Link[] = [];
  const cable = (a: string, pa: number, b: string, pb: number): void => {
    for (const [s, d] of [
      [{ dpid: a, port: pa }, { dpid: b, port: pb }],
      [{ dpid: b, port: pb }, { dpid: a, port: pa }],
    ] as const) {
      links.push({ id: linkId(s, d), src: s, dst: d, capacityBps, state: 'up', since: 0, lastSeen: 0 });
    }
  };
  for (let p = 0; p < k; p++) {
    for (let e = 0; e < h; e++) for (let a = 0; a < h; a++) cable(edge[p]![e]!, a + 1, agg[p]![a]!, e + 1);
    for (let a = 0; a < h; a++) for (let j = 0; j < h; j++) cable(agg[p]![a]!, h + j + 1, core[a]![j]!, p + 1);
  }
  return { k, edges: edge.flat(), switches: [...edge.flat(), ...agg.flat(), ...core.flat()], links };
}

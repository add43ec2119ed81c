// A k-ary fat-tree as a link table (no switches, no controller), read off the emulator's wiring
// (emu/wiring.ts), so benchmarks and tests without sockets price the very fabric the emulated
// switches form. Edge switches are the attachment points: hosts on ports 1..k/2, uplinks above.
import { linkId, type Link } from '../controller/topology/types.ts';
import { fatTreeWiring, hex16 } from './emu/wiring.ts';

export interface FatTree {
  readonly k: number;
  readonly edges: readonly string[];
  readonly switches: readonly string[];
  readonly links: readonly Link[];
}

export function fatTree(k: number, capacityBps = 10e9): FatTree {
  const w = fatTreeWiring(k);
  const dpids = w.switches.map((s) => hex16(s.dpid));
  const links: Link[] = [];
  for (const c of w.cables) {
    const a = { dpid: dpids[c.a.sw] as string, port: c.a.port };
    const b = { dpid: dpids[c.b.sw] as string, port: c.b.port };
    for (const [s, d] of [[a, b], [b, a]] as const) links.push({ id: linkId(s, d), src: s, dst: d, capacityBps, state: 'up', since: 0, lastSeen: 0 });
  }
  const layer = (role: string): string[] => dpids.filter((_, i) => w.switches[i]?.role === role);
  const edges = layer('edge');
  // Edge switches first, then aggregation, then core.
  return { k, edges, switches: [...edges, ...layer('aggregation'), ...layer('core')], links };
}

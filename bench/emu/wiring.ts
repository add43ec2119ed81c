// What the emulated network is made of, as plain data: switches with their ports, the cables
// between ports, and the hosts behind edge ports. Pure: the same config always gives the same
// network, so a driver can compute the wiring it expects without asking the emulator.
import { formatDpid } from '../../controller/dpid.ts';
import { linkId } from '../../controller/topology/types.ts';

export interface EmuHost {
  readonly mac: string;
  readonly ipv4: string;
  /** Index of the switch (into Wiring.switches) and the port the host sits behind. */
  readonly switchIndex: number;
  readonly port: number;
}

export interface EmuSwitch {
  readonly dpid: bigint;
  /** Physical ports 1..nPorts. */
  readonly nPorts: number;
  /** "edge", "aggregation", "core" in a fat-tree; "cbench" otherwise. */
  readonly role: string;
}

/** One cable; `a` and `b` are (switch index, port). Each cable is two link directions. */
export interface Cable {
  readonly a: { readonly sw: number; readonly port: number };
  readonly b: { readonly sw: number; readonly port: number };
}

export interface Wiring {
  readonly switches: readonly EmuSwitch[];
  readonly cables: readonly Cable[];
  readonly hosts: readonly EmuHost[];
}

export const hex16 = (dpid: bigint): string => formatDpid(dpid);

const byte = (n: number): string => (n & 0xff).toString(16).padStart(2, '0');
const mac6 = (b: readonly number[]): string => b.map(byte).join(':');
const ip4 = (a: number, b: number, c: number, d: number): string => `${a}.${b & 0xff}.${c & 0xff}.${d & 0xff}`;

/** A switch port's own address: locally administered, unique per (dpid, port). */
export function portMac(dpid: bigint, port: number): string {
  const d = Number(dpid & 0xffffffn);
  return mac6([0x02, 0xee, d >> 16, d >> 8, d, port]);
}

/** The link ids meshflow gives a cable's two directions ("<srcDpid>:<port>-<dstDpid>:<port>"). */
export function cableLinkIds(w: Wiring, c: Cable): [string, string] {
  const a = { dpid: hex16(w.switches[c.a.sw]!.dpid), port: c.a.port };
  const b = { dpid: hex16(w.switches[c.b.sw]!.dpid), port: c.b.port };
  return [linkId(a, b), linkId(b, a)];
}

export function allLinkIds(w: Wiring): string[] {
  return w.cables.flatMap((c) => cableLinkIds(w, c));
}

// ---- cbench ----------------------------------------------------------------------------

export interface CbenchShape {
  readonly switches: number;
  /** Source hosts per switch, all behind port 1. */
  readonly macs: number;
  /** Destination hosts per switch, one on each of ports 2..dests+1. */
  readonly dests: number;
}

/**
 * Host j of switch i (j < macs: a source on port 1; else destination j-macs on port j-macs+2).
 * Addresses are a function of (i, j) so that the traffic generator needs no table per host:
 * MAC 0a:ii:ii:jj:jj:jj, IPv4 10.n.n.n with n = i*(macs+dests)+j+1.
 */
export function writeCbenchHost(buf: Buffer, macAt: number, ipAt: number, shape: CbenchShape, i: number, j: number): void {
  const n = i * (shape.macs + shape.dests) + j + 1;
  const s = i + 1;
  buf[macAt] = 0x0a;
  buf[macAt + 1] = (s >> 8) & 0xff;
  buf[macAt + 2] = s & 0xff;
  buf[macAt + 3] = (j >> 16) & 0xff;
  buf[macAt + 4] = (j >> 8) & 0xff;
  buf[macAt + 5] = j & 0xff;
  buf[ipAt] = 10;
  buf[ipAt + 1] = (n >> 16) & 0xff;
  buf[ipAt + 2] = (n >> 8) & 0xff;
  buf[ipAt + 3] = n & 0xff;
}

export function cbenchHostAddr(shape: CbenchShape, i: number, j: number): { mac: string; ipv4: string } {
  const b = Buffer.alloc(10);
  writeCbenchHost(b, 0, 6, shape, i, j);
  return { mac: mac6([...b.subarray(0, 6)]), ipv4: ip4(b[6]!, b[7]!, b[8]!, b[9]!) };
}

export function cbenchWiring(shape: CbenchShape): Wiring {
  const switches: EmuSwitch[] = [];
  const hosts: EmuHost[] = [];
  for (let i = 0; i < shape.switches; i++) {
    switches.push({ dpid: BigInt(i + 1), nPorts: shape.dests + 1, role: 'cbench' });
    // Only the destinations are listed: the sources are many and the generator derives them.
    for (let d = 0; d < shape.dests; d++) hosts.push({ ...cbenchHostAddr(shape, i, shape.macs + d), switchIndex: i, port: d + 2 });
  }
  return { switches, cables: [], hosts };
}

// ---- fat-tree --------------------------------------------------------------------------

/**
 * A k-ary fat-tree (Al-Fares et al.): k pods of k/2 edge and k/2 aggregation switches, (k/2)²
 * cores, k/2 hosts per edge switch. Edge ports 1..k/2 face hosts, k/2+1..k the pod's aggregation
 * switches; aggregation ports 1..k/2 face the pod's edge switches, k/2+1..k cores; core port p+1
 * faces pod p. Dpids read as layer, pod, index: 0x1PPII edge, 0x2PPII aggregation, 0x3CCCC core.
 */
export function fatTreeWiring(k: number): Wiring {
  if (k < 2 || k % 2 !== 0) throw new Error(`fat-tree k must be even and >= 2, got ${k}`);
  const h = k / 2;
  const switches: EmuSwitch[] = [];
  const cables: Cable[] = [];
  const hosts: EmuHost[] = [];
  const edge = (pod: number, i: number): number => pod * k + i;
  const agg = (pod: number, i: number): number => pod * k + h + i;
  const core = (c: number): number => k * k + c;
  for (let pod = 0; pod < k; pod++) {
    for (let i = 0; i < h; i++) switches.push({ dpid: BigInt(0x10000 + (pod << 8) + i), nPorts: k, role: 'edge' });
    for (let i = 0; i < h; i++) switches.push({ dpid: BigInt(0x20000 + (pod << 8) + i), nPorts: k, role: 'aggregation' });
  }
  for (let c = 0; c < h * h; c++) switches.push({ dpid: BigInt(0x30000 + c), nPorts: k, role: 'core' });
  for (let pod = 0; pod < k; pod++) {
    for (let e = 0; e < h; e++) {
      for (let p = 1; p <= h; p++) {
        hosts.push({ mac: mac6([0x0a, 0xfa, pod, e, p, 0x01]), ipv4: ip4(10, pod, e, p + 1), switchIndex: edge(pod, e), port: p });
      }
      for (let a = 0; a < h; a++) cables.push({ a: { sw: edge(pod, e), port: h + 1 + a }, b: { sw: agg(pod, a), port: 1 + e } });
    }
    for (let a = 0; a < h; a++) {
      for (let j = 0; j < h; j++) cables.push({ a: { sw: agg(pod, a), port: h + 1 + j }, b: { sw: core(a * h + j), port: pod + 1 } });
    }
  }
  return { switches, cables, hosts };
}

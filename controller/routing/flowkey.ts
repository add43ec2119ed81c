// What one routed "flow" is, and the OpenFlow match that claims its packets.
// ECMP spreads flows, so with ECMP on a flow is the 5-tuple (3-tuple without ports); with it off,
// every packet between two addresses is one flow and takes one path.
import type { Ipv4Packet } from '../packet/index.ts';
import { ETH_TYPE_IPV4, IP_PROTO_TCP, IP_PROTO_UDP } from '../packet/index.ts';
import type { Match } from 'openflow-ts';

export interface FlowKey {
  readonly src: string;
  readonly dst: string;
  readonly proto?: number | undefined;
  readonly srcPort?: number | undefined;
  readonly dstPort?: number | undefined;
}

export function flowKeyOf(ip: Ipv4Packet, ecmp: boolean): FlowKey {
  if (!ecmp) return { src: ip.src, dst: ip.dst };
  return { src: ip.src, dst: ip.dst, proto: ip.protocol, srcPort: ip.ports?.srcPort, dstPort: ip.ports?.dstPort };
}

export function flowKeyString(k: FlowKey): string {
  return [k.src, k.dst, k.proto ?? '*', k.srcPort ?? '*', k.dstPort ?? '*'].join('|');
}

/** More specific keys win over less specific ones that overlap them (a fragment's 3-tuple rule). */
export function flowPriority(k: FlowKey, base: number): number {
  if (k.srcPort !== undefined) return base + 20;
  if (k.proto !== undefined) return base + 10;
  return base;
}

export function flowMatch(k: FlowKey): Match {
  const m: Match[number][] = [
    { field: 'eth_type', value: ETH_TYPE_IPV4 },
    { field: 'ipv4_src', value: k.src },
    { field: 'ipv4_dst', value: k.dst },
  ];
  if (k.proto !== undefined) m.push({ field: 'ip_proto', value: k.proto });
  if (k.srcPort !== undefined && k.dstPort !== undefined) {
    if (k.proto === IP_PROTO_TCP) m.push({ field: 'tcp_src', value: k.srcPort }, { field: 'tcp_dst', value: k.dstPort });
    if (k.proto === IP_PROTO_UDP) m.push({ field: 'udp_src', value: k.srcPort }, { field: 'udp_dst', value: k.dstPort });
  }
  return m;
}

/** FNV-1a over the key text: stable across runs and processes, so a flow keeps its path. */
export function flowHash(k: FlowKey): number {
  let h = 0x811c9dc5;
  for (const ch of flowKeyString(k)) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

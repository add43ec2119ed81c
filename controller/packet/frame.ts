// One entry point for packet-in data: the Ethernet header plus the one layer-3 view we act on.
// Parse once here, so discovery and forwarding look at the same typed frame.
import { ok, type ParseResult } from './errors.ts';
import { ETH_TYPE_ARP, ETH_TYPE_IPV4, ETH_TYPE_LLDP, parseEthernet, type EthernetFrame } from './ethernet.ts';
import { parseArp, type ArpPacket } from './arp.ts';
import { parseIpv4, type Ipv4Packet } from './ipv4.ts';
import { parseMeshflowLldp, type MeshflowLldp } from './lldp.ts';
import type { PacketError } from './errors.ts';

export type L3 =
  | { readonly kind: 'arp'; readonly arp: ArpPacket }
  | { readonly kind: 'ipv4'; readonly ip: Ipv4Packet }
  | { readonly kind: 'lldp'; readonly lldp: MeshflowLldp }
  /** LLDP that is not ours (or not valid): never forwarded, never learned from. */
  | { readonly kind: 'foreign_lldp'; readonly error: PacketError }
  /** A type we neither route nor learn from (IPv6, ...), or an ARP/IPv4 body that failed to parse. */
  | { readonly kind: 'other'; readonly error?: PacketError };

export interface Frame {
  readonly eth: EthernetFrame;
  readonly l3: L3;
}

/** Fails only when the Ethernet header itself is unusable; a bad inner packet becomes kind 'other'. */
export function parseFrame(data: Buffer): ParseResult<Frame> {
  const eth = parseEthernet(data);
  if (!eth.ok) return eth;
  return ok({ eth: eth.value, l3: inner(eth.value) });
}

function inner(eth: EthernetFrame): L3 {
  switch (eth.ethType) {
    case ETH_TYPE_ARP: {
      const r = parseArp(eth.payload);
      return r.ok ? { kind: 'arp', arp: r.value } : { kind: 'other', error: r };
    }
    case ETH_TYPE_IPV4: {
      const r = parseIpv4(eth.payload);
      return r.ok ? { kind: 'ipv4', ip: r.value } : { kind: 'other', error: r };
    }
    case ETH_TYPE_LLDP: {
      const r = parseMeshflowLldp(eth.payload);
      return r.ok ? { kind: 'lldp', lldp: r.value } : { kind: 'foreign_lldp', error: r };
    }
    default:
      return { kind: 'other' };
  }
}

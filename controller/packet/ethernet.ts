// Ethernet II frames with at most two VLAN tags (802.1Q, and an 802.1ad outer tag).
import { fail, ok, truncated, type ParseResult } from './errors.ts';
import { macToString, writeMac } from './addr.ts';

export const ETH_TYPE_IPV4 = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_VLAN = 0x8100;
export const ETH_TYPE_QINQ = 0x88a8;
export const ETH_TYPE_LLDP = 0x88cc;

export interface VlanTag {
  readonly tpid: number;
  readonly pcp: number;
  readonly dei: boolean;
  readonly vid: number;
}

export interface EthernetFrame {
  readonly dst: string;
  readonly src: string;
  /** Outermost tag first. */
  readonly vlans: readonly VlanTag[];
  /** The type of the payload, after any tags. */
  readonly ethType: number;
  /** A view onto the input buffer, not a copy. */
  readonly payload: Buffer;
}

const HEADER = 14;
const TAG = 4;
const MAX_TAGS = 2;

export function parseEthernet(buf: Buffer): ParseResult<EthernetFrame> {
  if (buf.length < HEADER) return truncated('ethernet header', HEADER, buf.length);
  const dst = macToString(buf, 0);
  const src = macToString(buf, 6);
  let offset = 12;
  let type = buf.readUInt16BE(offset);
  const vlans: VlanTag[] = [];
  while (type === ETH_TYPE_VLAN || type === ETH_TYPE_QINQ) {
    if (vlans.length === MAX_TAGS) return fail('PKT_BAD_FIELD', `more than ${MAX_TAGS} VLAN tags`);
    if (buf.length < offset + 2 + TAG) return truncated('VLAN tag', offset + 2 + TAG, buf.length);
    const tci = buf.readUInt16BE(offset + 2);
    vlans.push({ tpid: type, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff });
    offset += TAG;
    type = buf.readUInt16BE(offset);
  }
  // Below 0x0600 the field is an 802.3 length, not a type: such frames (LLC) carry nothing we route.
  if (type < 0x0600) return fail('PKT_NOT_THIS_PROTOCOL', `802.3 length field ${type}, not an Ethernet II type`);
  return ok({ dst, src, vlans, ethType: type, payload: buf.subarray(offset + 2) });
}

export interface EthernetSpec {
  readonly dst: string;
  readonly src: string;
  readonly vlans?: readonly Omit<VlanTag, 'tpid'>[] | undefined;
  readonly ethType: number;
  readonly payload: Uint8Array;
}

/** Builds a frame. No padding to 60 bytes: the switch pads on transmit. */
export function buildEthernet(spec: EthernetSpec): Buffer {
  const vlans = spec.vlans ?? [];
  const buf = Buffer.alloc(HEADER + TAG * vlans.length + spec.payload.length);
  writeMac(buf, 0, spec.dst);
  writeMac(buf, 6, spec.src);
  let offset = 12;
  vlans.forEach((v, i) => {
    // With two tags the outer one is the 802.1ad service tag.
    buf.writeUInt16BE(vlans.length === 2 && i === 0 ? ETH_TYPE_QINQ : ETH_TYPE_VLAN, offset);
    buf.writeUInt16BE(((v.pcp & 7) << 13) | (v.dei ? 0x1000 : 0) | (v.vid & 0x0fff), offset + 2);
    offset += TAG;
  });
  buf.writeUInt16BE(spec.ethType, offset);
  buf.set(spec.payload, offset + 2);
  return buf;
}

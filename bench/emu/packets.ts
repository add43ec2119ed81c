// The frames the emulated hosts send, already wrapped in OFPT_PACKET_IN (NO_BUFFER, the whole
// frame as data, match in_port). Written straight into one buffer: the traffic generator makes
// tens of thousands a second, so nothing here goes through the general encoder.
import { buildArp, arpRequest, buildEthernet, ETH_TYPE_ARP, internetChecksum, BROADCAST_MAC } from '../../controller/packet/index.ts';
import { writeCbenchHost, type CbenchShape } from './wiring.ts';
import { OFP_NO_BUFFER } from 'openflow-ts';

/** packet_in header (8) + fixed part (16) + match with in_port (16, padded) + pad (2). */
export const PACKET_IN_HEAD = 42;
/** Ethernet + IPv4 + UDP headers, then our tag: magic, switch index, sequence number. */
const TAG_AT = 14 + 20 + 8;
export const TAGGED_FRAME_LEN = 64;
export const TAGGED_PACKET_IN_LEN = PACKET_IN_HEAD + TAGGED_FRAME_LEN;
const MAGIC = 0x4d46454d; // "MFEM"

export const REASON_NO_MATCH = 0;
export const REASON_ACTION = 1;

/** Writes the packet_in head for a frame of frameLen bytes into buf at 0. */
function writeHead(buf: Buffer, xid: number, inPort: number, frameLen: number, reason: number): void {
  buf[0] = 4;
  buf[1] = 10;
  buf.writeUInt16BE(PACKET_IN_HEAD + frameLen, 2);
  buf.writeUInt32BE(xid >>> 0, 4);
  buf.writeUInt32BE(OFP_NO_BUFFER, 8);
  buf.writeUInt16BE(frameLen, 12);
  buf[14] = reason;
  buf[15] = 0; // table
  buf.fill(0, 16, 24); // cookie
  buf.writeUInt16BE(1, 24); // OFPMT_OXM
  buf.writeUInt16BE(12, 26); // 4 + one 8-byte OXM
  buf.writeUInt32BE(0x80000004, 28); // OXM_OF_IN_PORT
  buf.writeUInt32BE(inPort >>> 0, 32);
  buf.fill(0, 36, 42); // match padding (4) + packet_in pad (2)
}

/** A packet-in carrying `frame` as it is. */
export function packetIn(xid: number, inPort: number, frame: Uint8Array, reason: number): Buffer {
  const buf = Buffer.allocUnsafe(PACKET_IN_HEAD + frame.length);
  writeHead(buf, xid, inPort, frame.length, reason);
  buf.set(frame, PACKET_IN_HEAD);
  return buf;
}

/**
 * One cbench packet-in, written at buf[off..off+TAGGED_PACKET_IN_LEN): an IPv4/UDP frame from
 * source host `src` to destination host `dst` of switch `i` (wiring.ts numbering), tagged with
 * (i, seq) so that the answer to it can be found.
 */
export function writeTaggedPacketIn(buf: Buffer, off: number, xid: number, inPort: number, shape: CbenchShape, i: number, src: number, dst: number, seq: number): void {
  const b = buf.subarray(off, off + TAGGED_PACKET_IN_LEN);
  writeHead(b, xid, inPort, TAGGED_FRAME_LEN, REASON_NO_MATCH);
  const e = PACKET_IN_HEAD;
  const ip = e + 14;
  writeCbenchHost(b, e, ip + 16, shape, i, dst);
  writeCbenchHost(b, e + 6, ip + 12, shape, i, src);
  b.writeUInt16BE(0x0800, e + 12);
  b[ip] = 0x45;
  b[ip + 1] = 0;
  b.writeUInt16BE(TAGGED_FRAME_LEN - 14, ip + 2);
  b.writeUInt32BE(0x00004000, ip + 4); // id 0, don't fragment
  b[ip + 8] = 64;
  b[ip + 9] = 17;
  b.writeUInt16BE(0, ip + 10);
  b.writeUInt16BE(internetChecksum(b.subarray(ip, ip + 20)), ip + 10);
  const udp = ip + 20;
  // One source port per source host, as cbench repeats one frame per MAC: a switch's flows are
  // bounded by sources × destinations, and a repeat is a flow whose rule idled out.
  b.writeUInt16BE(40000 + (src & 0x3fff), udp);
  b.writeUInt16BE(9, udp + 2);
  b.writeUInt16BE(TAGGED_FRAME_LEN - 34, udp + 4);
  b.writeUInt16BE(0, udp + 6);
  const t = e + TAG_AT;
  b.writeUInt32BE(MAGIC, t);
  b.writeUInt32BE(i >>> 0, t + 4);
  b.writeUInt32BE(seq >>> 0, t + 8);
  b.fill(0, t + 12, e + TAGGED_FRAME_LEN);
}

/** The (switch index, sequence number) a tagged frame carries, or undefined for any other frame. */
export function readTag(frame: Buffer): { switchIndex: number; seq: number } | undefined {
  if (frame.length < TAG_AT + 12 || frame.readUInt32BE(TAG_AT) !== MAGIC) return undefined;
  return { switchIndex: frame.readUInt32BE(TAG_AT + 4), seq: frame.readUInt32BE(TAG_AT + 8) };
}

/** A gratuitous ARP from a host: how it announces itself so that the controller learns it. */
export function announceFrame(mac: string, ipv4: string): Buffer {
  return buildEthernet({ dst: BROADCAST_MAC, src: mac, ethType: ETH_TYPE_ARP, payload: buildArp({ ...arpRequest(mac, ipv4, ipv4) }) });
}

export const STORM_PACKET_IN_LEN = PACKET_IN_HEAD + 42;

/**
 * The storm's packet-in, written at buf[off..off+STORM_PACKET_IN_LEN): an ARP request from a new
 * host each time (MAC 0e:5c:nn:nn:nn:nn, IPv4 10.(200+).n.n) on port 1.
 */
export function writeStormPacketIn(buf: Buffer, off: number, xid: number, n: number): void {
  const b = buf.subarray(off, off + STORM_PACKET_IN_LEN);
  writeHead(b, xid, 1, 42, REASON_NO_MATCH);
  const e = PACKET_IN_HEAD;
  b.fill(0xff, e, e + 6);
  b[e + 6] = 0x0e;
  b[e + 7] = 0x5c;
  b.writeUInt32BE(n >>> 0, e + 8);
  b.writeUInt16BE(0x0806, e + 12);
  const a = e + 14;
  b.writeUInt32BE(0x00010800, a); // Ethernet, IPv4
  b.writeUInt32BE(0x06040001, a + 4); // lengths 6 and 4, request
  b.copy(b, a + 8, e + 6, e + 12); // sender MAC
  b[a + 14] = 10;
  b[a + 15] = 200 + ((n >>> 16) & 0x3f);
  b[a + 16] = (n >>> 8) & 0xff;
  b[a + 17] = n & 0xff;
  b.fill(0, a + 18, a + 24); // target MAC
  b.writeUInt32BE(0x0afffffe, a + 24); // 10.255.255.254
}

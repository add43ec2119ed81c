// IPv4 headers (RFC 791) and, for the first fragment, the TCP or UDP ports behind them: the fields
// a flow is matched on. Options are skipped, never interpreted.
import { fail, ok, truncated, type ParseResult } from './errors.ts';
import { ipv4ToString, writeIpv4 } from './addr.ts';

export const IP_PROTO_ICMP = 1;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;

export interface Ports {
  readonly srcPort: number;
  readonly dstPort: number;
}

export interface Ipv4Packet {
  readonly src: string;
  readonly dst: string;
  readonly protocol: number;
  readonly ttl: number;
  readonly dscp: number;
  /** Offset in 8-byte units; non-zero means a later fragment, which carries no L4 header. */
  readonly fragmentOffset: number;
  readonly moreFragments: boolean;
  /** TCP or UDP ports when this is a first (or only) fragment that holds them. */
  readonly ports: Ports | undefined;
  /** The payload as far as the total length field says (a view, not a copy). */
  readonly payload: Buffer;
}

const MIN_HEADER = 20;

export function parseIpv4(buf: Buffer): ParseResult<Ipv4Packet> {
  if (buf.length < MIN_HEADER) return truncated('IPv4 header', MIN_HEADER, buf.length);
  const first = buf.readUInt8(0);
  const version = first >> 4;
  const headerLen = (first & 0x0f) * 4;
  if (version !== 4) return fail('PKT_BAD_FIELD', `IP version ${version}`);
  if (headerLen < MIN_HEADER) return fail('PKT_BAD_FIELD', `IPv4 header length ${headerLen}`);
  const totalLen = buf.readUInt16BE(2);
  if (totalLen < headerLen) return fail('PKT_BAD_FIELD', `IPv4 total length ${totalLen} below header length ${headerLen}`);
  // A packet-in may be cut short by miss_send_len, so the payload is bounded by both lengths.
  if (buf.length < headerLen) return truncated('IPv4 header with options', headerLen, buf.length);
  const flagsFrag = buf.readUInt16BE(6);
  const fragmentOffset = flagsFrag & 0x1fff;
  const protocol = buf.readUInt8(9);
  const payload = buf.subarray(headerLen, Math.min(totalLen, buf.length));
  let ports: Ports | undefined;
  if (fragmentOffset === 0 && (protocol === IP_PROTO_TCP || protocol === IP_PROTO_UDP)) {
    if (payload.length < 4) return truncated(protocol === IP_PROTO_TCP ? 'TCP ports' : 'UDP ports', 4, payload.length);
    ports = { srcPort: payload.readUInt16BE(0), dstPort: payload.readUInt16BE(2) };
  }
  return ok({
    src: ipv4ToString(buf, 12),
    dst: ipv4ToString(buf, 16),
    protocol,
    ttl: buf.readUInt8(8),
    dscp: buf.readUInt8(1) >> 2,
    fragmentOffset,
    moreFragments: (flagsFrag & 0x2000) !== 0,
    ports,
    payload,
  });
}

export interface Ipv4Spec {
  readonly src: string;
  readonly dst: string;
  readonly protocol: number;
  readonly ttl?: number;
  readonly payload: Uint8Array;
}

/** A plain 20-byte header with a correct checksum (tests and probes build packets with it). */
export function buildIpv4(spec: Ipv4Spec): Buffer {
  const buf = Buffer.alloc(MIN_HEADER + spec.payload.length);
  buf.writeUInt8(0x45, 0);
  buf.writeUInt16BE(buf.length, 2);
  buf.writeUInt16BE(0x4000, 6); // don't fragment
  buf.writeUInt8(spec.ttl ?? 64, 8);
  buf.writeUInt8(spec.protocol, 9);
  writeIpv4(buf, 12, spec.src);
  writeIpv4(buf, 16, spec.dst);
  buf.writeUInt16BE(internetChecksum(buf.subarray(0, MIN_HEADER)), 10);
  buf.set(spec.payload, MIN_HEADER);
  return buf;
}

/** A UDP datagram (checksum 0: "not computed", which IPv4 allows). */
export function buildUdp(srcPort: number, dstPort: number, data: Uint8Array): Buffer {
  const buf = Buffer.alloc(8 + data.length);
  buf.writeUInt16BE(srcPort, 0);
  buf.writeUInt16BE(dstPort, 2);
  buf.writeUInt16BE(buf.length, 4);
  buf.set(data, 8);
  return buf;
}

/** A bare TCP header (SYN), enough to carry the ports a flow is matched on. */
export function buildTcpSyn(srcPort: number, dstPort: number): Buffer {
  const buf = Buffer.alloc(20);
  buf.writeUInt16BE(srcPort, 0);
  buf.writeUInt16BE(dstPort, 2);
  buf.writeUInt8(5 << 4, 12);
  buf.writeUInt8(0x02, 13);
  buf.writeUInt16BE(0xffff, 14);
  return buf;
}

export function internetChecksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += ((data[i] ?? 0) << 8) | (data[i + 1] ?? 0);
  if (data.length % 2 === 1) sum += (data[data.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

// ARP for IPv4 over Ethernet (RFC 826): the only kind a host on our network sends.
import { fail, ok, truncated, type ParseResult } from './errors.ts';
import { ipv4ToString, macToString, writeIpv4, writeMac, ZERO_MAC } from './addr.ts';

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export interface ArpPacket {
  readonly op: number;
  readonly senderMac: string;
  readonly senderIp: string;
  readonly targetMac: string;
  readonly targetIp: string;
}

const LENGTH = 28;

export function parseArp(buf: Buffer): ParseResult<ArpPacket> {
  if (buf.length < LENGTH) return truncated('ARP packet', LENGTH, buf.length);
  const htype = buf.readUInt16BE(0);
  const ptype = buf.readUInt16BE(2);
  if (htype !== 1 || ptype !== 0x0800 || buf[4] !== 6 || buf[5] !== 4) {
    return fail('PKT_BAD_FIELD', `ARP for hardware ${htype} / protocol 0x${ptype.toString(16)}, not Ethernet / IPv4`);
  }
  const op = buf.readUInt16BE(6);
  if (op !== ARP_REQUEST && op !== ARP_REPLY) return fail('PKT_BAD_FIELD', `ARP opcode ${op}`);
  return ok({
    op,
    senderMac: macToString(buf, 8),
    senderIp: ipv4ToString(buf, 14),
    targetMac: macToString(buf, 18),
    targetIp: ipv4ToString(buf, 24),
  });
}

export function buildArp(p: ArpPacket): Buffer {
  const buf = Buffer.alloc(LENGTH);
  buf.writeUInt16BE(1, 0);
  buf.writeUInt16BE(0x0800, 2);
  buf.writeUInt8(6, 4);
  buf.writeUInt8(4, 5);
  buf.writeUInt16BE(p.op, 6);
  writeMac(buf, 8, p.senderMac);
  writeIpv4(buf, 14, p.senderIp);
  writeMac(buf, 18, p.targetMac);
  writeIpv4(buf, 24, p.targetIp);
  return buf;
}

/** The reply a host owning `answerMac` would give to `request`. */
export function arpReplyTo(request: ArpPacket, answerMac: string): ArpPacket {
  return {
    op: ARP_REPLY,
    senderMac: answerMac,
    senderIp: request.targetIp,
    targetMac: request.senderMac,
    targetIp: request.senderIp,
  };
}

export function arpRequest(senderMac: string, senderIp: string, targetIp: string): ArpPacket {
  return { op: ARP_REQUEST, senderMac, senderIp, targetMac: ZERO_MAC, targetIp };
}

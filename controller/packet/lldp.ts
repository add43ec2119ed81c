// LLDP (IEEE 802.1AB) as meshflow uses it for discovery: chassis id = the datapath id, port id =
// the OpenFlow port number, and an organisation-specific TLV that marks the frame as ours and names
// the controller instance that sent it, so LLDP from real bridges or other controllers is ignored.
import { fail, ok, truncated, type ParseResult } from './errors.ts';

export const LLDP_MULTICAST = '01:80:c2:00:00:0e';

const TLV_END = 0;
const TLV_CHASSIS_ID = 1;
const TLV_PORT_ID = 2;
const TLV_TTL = 3;
const TLV_ORG_SPECIFIC = 127;
/** Chassis and port id subtype 7: "locally assigned", free text. */
const SUBTYPE_LOCAL = 7;

/**
 * The OUI in our organisation-specific TLV. 0x0a has the "local" (X) bit of a CID set, so it
 * cannot collide with an IEEE-assigned OUI.
 */
export const MESHFLOW_OUI = Buffer.from([0x0a, 0x6d, 0x66]);
const MESHFLOW_SUBTYPE = 1;

export interface LldpTlv {
  readonly type: number;
  readonly value: Buffer;
}

/** Splits an LLDPDU into TLVs up to the End TLV. */
export function parseLldpTlvs(buf: Buffer): ParseResult<readonly LldpTlv[]> {
  const tlvs: LldpTlv[] = [];
  let offset = 0;
  for (;;) {
    if (buf.length < offset + 2) return truncated('LLDP TLV header', offset + 2, buf.length);
    const head = buf.readUInt16BE(offset);
    const type = head >> 9;
    const len = head & 0x01ff;
    if (buf.length < offset + 2 + len) return truncated(`LLDP TLV type ${type}`, offset + 2 + len, buf.length);
    if (type === TLV_END) return ok(tlvs);
    tlvs.push({ type, value: buf.subarray(offset + 2, offset + 2 + len) });
    offset += 2 + len;
  }
}

export interface MeshflowLldp {
  /** 16 hex digits. */
  readonly dpid: string;
  readonly port: number;
  /** The sending controller instance (hex). */
  readonly instance: string;
}

/**
 * Reads one of our discovery frames. LLDP that is not ours is PKT_NOT_THIS_PROTOCOL: a normal
 * answer (a real bridge's LLDP), not a fault.
 */
export function parseMeshflowLldp(payload: Buffer): ParseResult<MeshflowLldp> {
  const parsed = parseLldpTlvs(payload);
  if (!parsed.ok) return parsed;
  const tlvs = parsed.value;
  // The standard demands chassis id, port id and TTL, in this order, first.
  if (tlvs[0]?.type !== TLV_CHASSIS_ID || tlvs[1]?.type !== TLV_PORT_ID || tlvs[2]?.type !== TLV_TTL) {
    return fail('PKT_BAD_FIELD', 'LLDPDU does not start with chassis id, port id and TTL');
  }
  const mark = tlvs.find(
    (t) => t.type === TLV_ORG_SPECIFIC && t.value.length >= 4 && t.value.subarray(0, 3).equals(MESHFLOW_OUI) && t.value[3] === MESHFLOW_SUBTYPE,
  );
  if (!mark) return fail('PKT_NOT_THIS_PROTOCOL', 'LLDP without the meshflow TLV');
  const chassis = tlvs[0].value;
  const port = tlvs[1].value;
  const dpid = /^dpid:([0-9a-f]{16})$/.exec(text(chassis, SUBTYPE_LOCAL) ?? '')?.[1];
  const portText = text(port, SUBTYPE_LOCAL);
  if (dpid === undefined) return fail('PKT_BAD_FIELD', 'meshflow LLDP chassis id is not dpid:<16 hex digits>');
  if (portText === undefined || !/^\d{1,10}$/.test(portText) || Number(portText) > 0xffffffff) {
    return fail('PKT_BAD_FIELD', 'meshflow LLDP port id is not a port number');
  }
  return ok({ dpid, port: Number(portText), instance: mark.value.subarray(4).toString('hex') });
}

function text(value: Buffer, subtype: number): string | undefined {
  return value[0] === subtype ? value.subarray(1).toString('latin1') : undefined;
}

function tlv(type: number, value: Uint8Array): Buffer {
  const buf = Buffer.alloc(2 + value.length);
  buf.writeUInt16BE((type << 9) | value.length, 0);
  buf.set(value, 2);
  return buf;
}

/** The LLDPDU (Ethernet payload) for one port of one switch. */
export function buildMeshflowLldp(m: MeshflowLldp, ttlSeconds = 120): Buffer {
  const ttl = Buffer.alloc(2);
  ttl.writeUInt16BE(ttlSeconds);
  return Buffer.concat([
    tlv(TLV_CHASSIS_ID, Buffer.concat([Buffer.from([SUBTYPE_LOCAL]), Buffer.from(`dpid:${m.dpid}`, 'latin1')])),
    tlv(TLV_PORT_ID, Buffer.concat([Buffer.from([SUBTYPE_LOCAL]), Buffer.from(String(m.port), 'latin1')])),
    tlv(TLV_TTL, ttl),
    tlv(TLV_ORG_SPECIFIC, Buffer.concat([MESHFLOW_OUI, Buffer.from([MESHFLOW_SUBTYPE]), Buffer.from(m.instance, 'hex')])),
    tlv(TLV_END, Buffer.alloc(0)),
  ]);
}

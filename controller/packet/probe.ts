// The delay probe: a frame of our own ethertype (IEEE 802 local experimental 0x88b5) that the
// controller sends out of one switch port and takes back as a packet-in at the far end of the link.
// It names the sending controller instance, the link direction it measures, a sequence number and
// the send time, so the receiver needs no table of probes in flight.
import { fail, ok, truncated, type ParseResult } from './errors.ts';

export const ETH_TYPE_PROBE = 0x88b5;
/**
 * Sent to the LLDP group address: bridges never forward 01:80:c2:00:00:0e, so a probe that reaches
 * a host port or a plain bridge goes no further.
 */
export const PROBE_MULTICAST = '01:80:c2:00:00:0e';

/** "mfp" and the format version. */
const MAGIC = Buffer.from([0x6d, 0x66, 0x70, 0x01]);
/** magic 4, instance 8, src dpid 8 + port 4, dst dpid 8 + port 4, seq 4, sent 8. */
export const PROBE_PAYLOAD_BYTES = 48;

export interface Probe {
  /** The sending controller instance, 16 hex digits. */
  readonly instance: string;
  readonly src: { readonly dpid: string; readonly port: number };
  readonly dst: { readonly dpid: string; readonly port: number };
  readonly seq: number;
  /** Send time, ms since the epoch (fractional). */
  readonly sentAt: number;
}

export function buildProbe(p: Probe): Buffer {
  const buf = Buffer.alloc(PROBE_PAYLOAD_BYTES);
  MAGIC.copy(buf, 0);
  buf.write(p.instance, 4, 8, 'hex');
  buf.write(p.src.dpid, 12, 8, 'hex');
  buf.writeUInt32BE(p.src.port, 20);
  buf.write(p.dst.dpid, 24, 8, 'hex');
  buf.writeUInt32BE(p.dst.port, 32);
  buf.writeUInt32BE(p.seq >>> 0, 36);
  buf.writeDoubleBE(p.sentAt, 40);
  return buf;
}

/** Reads a probe payload (the Ethernet payload). Anything not in our format is PKT_NOT_THIS_PROTOCOL. */
export function parseProbe(payload: Buffer): ParseResult<Probe> {
  if (payload.length < PROBE_PAYLOAD_BYTES) return truncated('delay probe', PROBE_PAYLOAD_BYTES, payload.length);
  if (!payload.subarray(0, 4).equals(MAGIC)) return fail('PKT_NOT_THIS_PROTOCOL', 'ethertype 0x88b5 without the meshflow probe mark');
  const sentAt = payload.readDoubleBE(40);
  if (!Number.isFinite(sentAt)) return fail('PKT_BAD_FIELD', 'delay probe send time is not a number');
  return ok({
    instance: payload.toString('hex', 4, 12),
    src: { dpid: payload.toString('hex', 12, 20), port: payload.readUInt32BE(20) },
    dst: { dpid: payload.toString('hex', 24, 32), port: payload.readUInt32BE(32) },
    seq: payload.readUInt32BE(36),
    sentAt,
  });
}

/** The ethertype of an untagged Ethernet frame, read in place (probes are sent untagged); -1 if too short. */
export function untaggedEthType(frame: Uint8Array): number {
  return frame.length < 14 ? -1 : (frame[12]! << 8) | frame[13]!;
}

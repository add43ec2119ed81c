// Admission of packet-ins: a token bucket per switch, asked before a PACKET_IN frame is decoded, so a
// storm from one switch costs the controller a map lookup and a few byte reads per excess frame.
// Refused packet-ins are dropped (the switch already holds no buffer for them: max_len is
// NO_BUFFER) and counted per switch. Time comes in as `now` (ms), so the bucket is a pure function
// of the arrivals and tests need no clock.
//
// LLDP has a bucket of its own per switch: discovery's frames arrive on the same switch as the
// storm, and a bucket shared with it would refuse them in proportion to the storm, so links would
// expire (seen on Mininet: 98% refused, a link of the stormy switch expired within seconds). Delay
// probes (ethertype 0x88b5, monitor/probes.ts) are discovery-like and share that bucket. The
// frame's ethertype is read in place from the raw PACKET_IN, with no decoding.

import { OFPT_PACKET_IN } from 'openflow-ts';
import { ETH_TYPE_LLDP, ETH_TYPE_PROBE, ETH_TYPE_QINQ, ETH_TYPE_VLAN } from './packet/index.ts';

export interface AdmissionSettings {
  /** Packet-ins admitted per second per switch, sustained; 0 admits everything. */
  readonly rate: number;
  /** Packet-ins a switch may send at once above the rate (the bucket's depth). */
  readonly burst: number;
}

/** Enough for a real lab (a Mininet fabric learning hundreds of hosts) to pass untouched. */
export const DEFAULT_ADMISSION: AdmissionSettings = { rate: 2000, burst: 4000 };

export interface SwitchAdmissionCounts {
  readonly admitted: number;
  readonly dropped: number;
}

export interface AdmissionCounters {
  /** Since start, over every switch (forgetting a switch never lowers these). */
  readonly admitted: number;
  readonly dropped: number;
  /** Switches seen since they were last forgotten. */
  readonly perSwitch: ReadonlyMap<string, SwitchAdmissionCounts>;
}

interface Bucket {
  tokens: number;
  at: number;
}

interface SwitchBuckets {
  readonly other: Bucket;
  readonly lldp: Bucket;
  admitted: number;
  dropped: number;
}

/** Header, buffer_id, total_len, reason, table_id, cookie: where a PACKET_IN's match starts. */
const PACKET_IN_MATCH_AT = 24;

/**
 * True when a raw OpenFlow 1.3 PACKET_IN carries an LLDP frame or a delay probe (untagged or behind VLAN tags).
 * Reads a few bytes in place; anything short or odd is "not LLDP".
 */
export function isLldpPacketIn(frame: Uint8Array): boolean {
  if (frame.length < PACKET_IN_MATCH_AT + 4 || frame[1] !== OFPT_PACKET_IN) return false;
  const matchLen = (frame[PACKET_IN_MATCH_AT + 2]! << 8) | frame[PACKET_IN_MATCH_AT + 3]!;
  if (matchLen < 4) return false;
  // The match is padded to 8 bytes, then 2 bytes of padding precede the Ethernet frame.
  let at = PACKET_IN_MATCH_AT + ((matchLen + 7) & ~7) + 2 + 12;
  for (let tags = 0; tags <= 2; tags++) {
    if (at + 2 > frame.length) return false;
    const type = (frame[at]! << 8) | frame[at + 1]!;
    if (type === ETH_TYPE_LLDP || type === ETH_TYPE_PROBE) return true;
    if (type !== ETH_TYPE_VLAN && type !== ETH_TYPE_QINQ) return false;
    at += 4;
  }
  return false;
}

/** Throws a message that names the setting at fault (the CLI checks its flags before this). */
export function checkAdmissionSettings(s: AdmissionSettings): void {
  if (!Number.isFinite(s.rate) || s.rate < 0) throw new RangeError(`packet-in rate must be 0 (unlimited) or a positive number per second, got ${s.rate}`);
  if (!Number.isFinite(s.burst) || s.burst < 0) throw new RangeError(`packet-in burst must be a positive number of packets, got ${s.burst}`);
  if (s.rate > 0 && s.burst < 1) throw new RangeError(`packet-in burst must be at least 1 when the rate is limited (rate ${s.rate}/s), got ${s.burst}`);
}

export class PacketInAdmission {
  readonly settings: AdmissionSettings;
  private readonly buckets = new Map<string, SwitchBuckets>();
  private admittedTotal = 0;
  private droppedTotal = 0;
  private readonly perMs: number;

  constructor(settings: Partial<AdmissionSettings> = {}) {
    this.settings = { ...DEFAULT_ADMISSION, ...settings };
    checkAdmissionSettings(this.settings);
    this.perMs = this.settings.rate / 1000;
  }

  get unlimited(): boolean {
    return this.settings.rate === 0;
  }

  /**
   * One PACKET_IN arrived from `dpid` at `now` (ms): true to handle it, false to drop it. Given the
   * raw frame, an LLDP packet-in takes from the switch's LLDP bucket (same rate and burst) instead.
   */
  admit(dpid: string, now: number, frame?: Uint8Array): boolean {
    let sw = this.buckets.get(dpid);
    if (sw === undefined) {
      const burst = this.settings.burst;
      sw = { other: { tokens: burst, at: now }, lldp: { tokens: burst, at: now }, admitted: 0, dropped: 0 };
      this.buckets.set(dpid, sw);
    }
    if (this.perMs === 0 || this.take(frame !== undefined && isLldpPacketIn(frame) ? sw.lldp : sw.other, now)) {
      sw.admitted++;
      this.admittedTotal++;
      return true;
    }
    sw.dropped++;
    this.droppedTotal++;
    return false;
  }

  private take(b: Bucket, now: number): boolean {
    if (now > b.at) {
      // A clock that steps back refills nothing rather than draining or overfilling the bucket.
      b.tokens = Math.min(this.settings.burst, b.tokens + (now - b.at) * this.perMs);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** The switch is gone: its bucket and its per-switch counts go too (the totals keep them). */
  forget(dpid: string): void {
    this.buckets.delete(dpid);
  }

  get counters(): AdmissionCounters {
    const buckets = this.buckets;
    return {
      admitted: this.admittedTotal,
      dropped: this.droppedTotal,
      // A read-only view, built at scrape time, never on the packet path.
      perSwitch: new Map([...buckets].map(([dpid, b]) => [dpid, { admitted: b.admitted, dropped: b.dropped }])),
    };
  }
}

// Admission of packet-ins: a token bucket per switch, driven by explicit times.
import assert from 'node:assert/strict';
import { DEFAULT_ADMISSION, PacketInAdmission, isLldpPacketIn } from '../../controller/admission.ts';
import { encode, type Match } from 'openflow-ts';
import { ETH_TYPE_ARP, ETH_TYPE_LLDP, buildEthernet } from '../../controller/packet/index.ts';
import { ControllerMetrics } from '../../controller/api/metrics.ts';
import { Controller } from '../../controller/controller.ts';
import { checkPacketInFlags } from '../../cli/controller.ts';
import { parseProm, valueOf } from '../api/prom.ts';

const A = '0000000000000001';
const B = '0000000000000002';

/** A raw PACKET_IN as a switch sends it, carrying an Ethernet frame of this type. */
function packetIn(ethType: number, opts: { match?: Match; vlans?: number } = {}): Buffer {
  const data = buildEthernet({
    dst: '01:80:c2:00:00:0e',
    src: '02:00:00:00:00:01',
    vlans: Array.from({ length: opts.vlans ?? 0 }, (_v, i) => ({ pcp: 0, dei: false, vid: 10 + i })),
    ethType,
    payload: Buffer.alloc(46),
  });
  const match = opts.match ?? [{ field: 'in_port', value: 3 }];
  return encode({ type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: data.length, reason: 0, tableId: 0, cookie: 0n, match, data });
}

function offer(a: PacketInAdmission, dpid: string, n: number, now: number): number {
  let admitted = 0;
  for (let i = 0; i < n; i++) if (a.admit(dpid, now)) admitted++;
  return admitted;
}

describe('PacketInAdmission', () => {
  it('admits a full burst at once, then refuses until time refills the bucket', () => {
    const a = new PacketInAdmission({ rate: 100, burst: 10 });
    assert.equal(offer(a, A, 15, 0), 10);
    assert.equal(a.admit(A, 0), false);
    // 100/s: one token every 10 ms.
    assert.equal(a.admit(A, 5), false);
    assert.equal(a.admit(A, 10), true);
    assert.equal(a.admit(A, 10), false);
    assert.equal(offer(a, A, 50, 10 + 200), 10, 'refills no higher than the burst');
  });

  it('holds a sustained storm to the rate', () => {
    const a = new PacketInAdmission({ rate: 1000, burst: 100 });
    let admitted = 0;
    // 10,000 packet-ins/s for 5 s, one every 0.1 ms.
    for (let i = 0; i < 50_000; i++) if (a.admit(A, i / 10)) admitted++;
    // burst + rate × 5 s, give or take the last partial token.
    assert.ok(admitted >= 5000 && admitted <= 5100, `admitted ${admitted}`);
    const c = a.counters;
    assert.equal(c.admitted, admitted);
    assert.equal(c.dropped, 50_000 - admitted);
  });

  it('keeps one bucket per switch: a storm on one leaves another untouched', () => {
    const a = new PacketInAdmission({ rate: 10, burst: 5 });
    offer(a, A, 1000, 0);
    assert.equal(offer(a, B, 5, 0), 5);
    const c = a.counters;
    assert.deepEqual(c.perSwitch.get(A), { admitted: 5, dropped: 995 });
    assert.deepEqual(c.perSwitch.get(B), { admitted: 5, dropped: 0 });
    assert.equal(c.dropped, 995);
  });

  it('admits everything with rate 0', () => {
    const a = new PacketInAdmission({ rate: 0, burst: 0 });
    assert.equal(a.unlimited, true);
    assert.equal(offer(a, A, 100_000, 0), 100_000);
    assert.equal(a.counters.dropped, 0);
  });

  it('forgets a gone switch: its series go, the totals stay, and it comes back with a full bucket', () => {
    const a = new PacketInAdmission({ rate: 1, burst: 3 });
    offer(a, A, 10, 0);
    a.forget(A);
    assert.equal(a.counters.perSwitch.has(A), false);
    assert.equal(a.counters.dropped, 7);
    assert.equal(offer(a, A, 10, 1), 3);
    assert.deepEqual(a.counters.perSwitch.get(A), { admitted: 3, dropped: 7 });
    assert.equal(a.counters.dropped, 14);
  });

  it('refills nothing when the clock steps back, and resumes from the later time', () => {
    const a = new PacketInAdmission({ rate: 1000, burst: 2 });
    offer(a, A, 2, 1000);
    assert.equal(a.admit(A, 500), false);
    assert.equal(a.admit(A, 1000), false);
    assert.equal(a.admit(A, 1001), true);
  });

  it('defaults that let a lab pass untouched, and settings checked with the setting named', () => {
    const a = new PacketInAdmission();
    assert.deepEqual(a.settings, DEFAULT_ADMISSION);
    assert.equal(offer(a, A, DEFAULT_ADMISSION.burst, 0), DEFAULT_ADMISSION.burst);
    assert.throws(() => new PacketInAdmission({ rate: -1 }), /packet-in rate/);
    assert.throws(() => new PacketInAdmission({ rate: Number.NaN }), /packet-in rate/);
    assert.throws(() => new PacketInAdmission({ rate: 10, burst: 0 }), /packet-in burst must be at least 1/);
  });
});

describe('LLDP in a storm', () => {
  it('finds LLDP in a raw PACKET_IN, behind any match length and up to two VLAN tags', () => {
    assert.equal(isLldpPacketIn(packetIn(ETH_TYPE_LLDP)), true);
    assert.equal(isLldpPacketIn(packetIn(ETH_TYPE_ARP)), false);
    assert.equal(isLldpPacketIn(packetIn(ETH_TYPE_LLDP, { vlans: 1 })), true);
    assert.equal(isLldpPacketIn(packetIn(ETH_TYPE_LLDP, { vlans: 2 })), true);
    assert.equal(isLldpPacketIn(packetIn(ETH_TYPE_ARP, { vlans: 2 })), false);
    // A longer match (20 bytes, padded to 24) moves the frame.
    const long: Match = [
      { field: 'in_port', value: 3 },
      { field: 'in_phy_port', value: 3 },
    ];
    assert.equal(isLldpPacketIn(packetIn(ETH_TYPE_LLDP, { match: long })), true);
    assert.equal(isLldpPacketIn(packetIn(ETH_TYPE_ARP, { match: long })), false);
  });

  it('says "not LLDP" for anything short or not a PACKET_IN, without throwing', () => {
    const lldp = packetIn(ETH_TYPE_LLDP);
    for (let n = 0; n < lldp.length; n++) assert.doesNotThrow(() => isLldpPacketIn(lldp.subarray(0, n)));
    assert.equal(isLldpPacketIn(lldp.subarray(0, 40)), false);
    const notPacketIn = Buffer.from(lldp);
    notPacketIn[1] = 11;
    assert.equal(isLldpPacketIn(notPacketIn), false);
  });

  it('gives LLDP a bucket of its own: a storm on the same switch does not starve discovery', () => {
    const a = new PacketInAdmission({ rate: 10, burst: 5 });
    const arp = packetIn(ETH_TYPE_ARP);
    const lldp = packetIn(ETH_TYPE_LLDP);
    let lldpAdmitted = 0;
    let arpAdmitted = 0;
    // 1,000 ARP packet-ins a second for 5 s, and one LLDP every 100 ms among them.
    for (let t = 0; t < 5000; t++) {
      if (a.admit(A, t, arp)) arpAdmitted++;
      if (t % 100 === 0 && a.admit(A, t, lldp)) lldpAdmitted++;
    }
    assert.equal(lldpAdmitted, 50, 'every LLDP (10/s, within its own rate)');
    assert.ok(arpAdmitted >= 50 && arpAdmitted <= 56, `ARP held to the rate: ${arpAdmitted}`);
    assert.equal(a.counters.perSwitch.get(A)?.admitted, arpAdmitted + lldpAdmitted);
  });

  it('bounds an LLDP storm by its own bucket', () => {
    const a = new PacketInAdmission({ rate: 10, burst: 5 });
    const offerFrames = (frame: Buffer): number => {
      let admitted = 0;
      for (let i = 0; i < 100; i++) if (a.admit(A, 0, frame)) admitted++;
      return admitted;
    };
    assert.equal(offerFrames(packetIn(ETH_TYPE_LLDP)), 5);
    assert.equal(offerFrames(packetIn(ETH_TYPE_ARP)), 5);
  });
});

describe('admission in /metrics', () => {
  it('shows dropped packet-ins per switch and in total, and drops a gone switch\'s series but not its share of the total', async () => {
    const admission = new PacketInAdmission({ rate: 1, burst: 1 });
    // A controller that never listens: the metrics only read it.
    const metrics = new ControllerMetrics(new Controller(), { admission, processMetrics: false });
    offer(admission, A, 5, 0);
    offer(admission, B, 3, 0);
    let samples = parseProm(await metrics.text());
    assert.equal(valueOf(samples, 'meshflow_packet_ins_dropped_total', { dpid: A }), 4);
    assert.equal(valueOf(samples, 'meshflow_packet_ins_dropped_total', { dpid: B }), 2);
    assert.equal(valueOf(samples, 'meshflow_admission_dropped_total'), 6);
    assert.equal(valueOf(samples, 'meshflow_admission_admitted_total'), 2);
    admission.forget(A);
    samples = parseProm(await metrics.text());
    assert.equal(valueOf(samples, 'meshflow_packet_ins_dropped_total', { dpid: A }), undefined);
    assert.equal(valueOf(samples, 'meshflow_packet_ins_dropped_total', { dpid: B }), 2);
    assert.equal(valueOf(samples, 'meshflow_admission_dropped_total'), 6);
    metrics.close();
  });
});

describe('meshflow controller --packet-in-burst', () => {
  it('refuses a burst of 0 while the rate limits, naming both flags, with the usage exit code', () => {
    assert.throws(
      () => checkPacketInFlags({ packetInRate: 100, packetInBurst: 0 }),
      (e: Error & { exitCode?: number }) => /--packet-in-burst/.test(e.message) && /--packet-in-rate/.test(e.message) && e.exitCode === 2,
    );
    checkPacketInFlags({ packetInRate: 0, packetInBurst: 0 });
    checkPacketInFlags({ packetInRate: 100, packetInBurst: 1 });
  });
});

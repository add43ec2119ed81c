// Packet parsers and builders: round trips, hand-made wire bytes, and every way a frame can be short
// or wrong coming back as a coded error rather than an exception.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ARP_REPLY,
  ARP_REQUEST,
  ETH_TYPE_ARP,
  ETH_TYPE_IPV4,
  ETH_TYPE_LLDP,
  IP_PROTO_ICMP,
  IP_PROTO_TCP,
  IP_PROTO_UDP,
  LLDP_MULTICAST,
  arpReplyTo,
  arpRequest,
  buildArp,
  buildEthernet,
  buildIpv4,
  buildMeshflowLldp,
  buildTcpSyn,
  buildUdp,
  internetChecksum,
  parseArp,
  parseEthernet,
  parseFrame,
  parseIpv4,
  parseMeshflowLldp,
  type ParseResult,
} from '../../controller/packet/index.ts';

function value<T>(r: ParseResult<T>): T {
  if (!r.ok) assert.fail(`expected a parse, got ${r.code}: ${r.message}`);
  return r.value;
}

const A = '00:00:00:00:00:01';
const B = '00:00:00:00:00:02';

describe('packet: ethernet', () => {
  it('reads an untagged frame from wire bytes', () => {
    const bytes = Buffer.from('ffffffffffff' + '000000000001' + '0806' + 'abcd', 'hex');
    const f = value(parseEthernet(bytes));
    assert.equal(f.dst, 'ff:ff:ff:ff:ff:ff');
    assert.equal(f.src, A);
    assert.equal(f.ethType, ETH_TYPE_ARP);
    assert.deepEqual(f.vlans, []);
    assert.deepEqual([...f.payload], [0xab, 0xcd]);
  });

  it('reads 802.1Q and 802.1ad tags, outer first', () => {
    const bytes = Buffer.from('000000000002' + '000000000001' + '88a8' + '2064' + '8100' + 'e00a' + '0800', 'hex');
    const f = value(parseEthernet(bytes));
    assert.deepEqual(f.vlans, [
      { tpid: 0x88a8, pcp: 1, dei: false, vid: 100 },
      { tpid: 0x8100, pcp: 7, dei: false, vid: 10 },
    ]);
    assert.equal(f.ethType, ETH_TYPE_IPV4);
    assert.equal(f.payload.length, 0);
  });

  it('round-trips built frames with and without tags', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ pcp: fc.integer({ min: 0, max: 7 }), dei: fc.boolean(), vid: fc.integer({ min: 0, max: 4095 }) }), { maxLength: 2 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 0x0600, max: 0xffff }).filter((t) => t !== 0x8100 && t !== 0x88a8),
        (vlans, payload, ethType) => {
          const f = value(parseEthernet(buildEthernet({ dst: B, src: A, vlans, ethType, payload })));
          assert.deepEqual(f.vlans.map(({ pcp, dei, vid }) => ({ pcp, dei, vid })), vlans.map((v) => ({ ...v })));
          assert.equal(f.ethType, ethType);
          assert.deepEqual([...f.payload], [...payload]);
        },
      ),
    );
  });

  it('codes short headers, short tags, three tags and 802.3 lengths', () => {
    const cases: [string, string][] = [
      ['0000', 'PKT_TRUNCATED'],
      ['000000000002' + '000000000001' + '8100' + '00', 'PKT_TRUNCATED'],
      ['000000000002' + '000000000001' + '8100' + '0001' + '8100' + '0002' + '8100' + '0003' + '0800', 'PKT_BAD_FIELD'],
      ['000000000002' + '000000000001' + '0040', 'PKT_NOT_THIS_PROTOCOL'],
    ];
    for (const [hex, code] of cases) {
      const r = parseEthernet(Buffer.from(hex, 'hex'));
      assert.equal(r.ok, false, hex);
      if (!r.ok) assert.equal(r.code, code, hex);
    }
  });

  it('never throws on arbitrary bytes, at any layer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const buf = Buffer.from(bytes);
        parseFrame(buf);
        parseArp(buf);
        parseIpv4(buf);
        parseMeshflowLldp(buf);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('packet: ARP', () => {
  it('reads a request as a host sends it', () => {
    const bytes = Buffer.from('0001' + '0800' + '06' + '04' + '0001' + '000000000001' + '0a000001' + '000000000000' + '0a000002', 'hex');
    assert.deepEqual(value(parseArp(bytes)), {
      op: ARP_REQUEST,
      senderMac: A,
      senderIp: '10.0.0.1',
      targetMac: '00:00:00:00:00:00',
      targetIp: '10.0.0.2',
    });
    assert.deepEqual(buildArp(value(parseArp(bytes))), bytes);
  });

  it('answers a request with the reply the target would send', () => {
    const reply = arpReplyTo(arpRequest(A, '10.0.0.1', '10.0.0.2'), B);
    assert.deepEqual(value(parseArp(buildArp(reply))), {
      op: ARP_REPLY,
      senderMac: B,
      senderIp: '10.0.0.2',
      targetMac: A,
      targetIp: '10.0.0.1',
    });
  });

  it('codes short packets, non-IPv4 ARP and unknown opcodes', () => {
    const good = buildArp(arpRequest(A, '10.0.0.1', '10.0.0.2'));
    const short = parseArp(good.subarray(0, 27));
    assert.ok(!short.ok && short.code === 'PKT_TRUNCATED');
    const ipv6 = Buffer.from(good);
    ipv6.writeUInt16BE(0x86dd, 2);
    const r1 = parseArp(ipv6);
    assert.ok(!r1.ok && r1.code === 'PKT_BAD_FIELD');
    const rarp = Buffer.from(good);
    rarp.writeUInt16BE(3, 6);
    const r2 = parseArp(rarp);
    assert.ok(!r2.ok && r2.code === 'PKT_BAD_FIELD');
  });
});

describe('packet: IPv4', () => {
  it('reads addresses, protocol and UDP ports, and checks its own checksum', () => {
    const pkt = buildIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IP_PROTO_UDP, payload: buildUdp(5353, 53, Buffer.from('hi')) });
    assert.equal(internetChecksum(pkt.subarray(0, 20)), 0, 'header checksum verifies');
    const ip = value(parseIpv4(pkt));
    assert.equal(ip.src, '10.0.0.1');
    assert.equal(ip.dst, '10.0.0.2');
    assert.equal(ip.protocol, IP_PROTO_UDP);
    assert.equal(ip.ttl, 64);
    assert.deepEqual(ip.ports, { srcPort: 5353, dstPort: 53 });
    assert.equal(ip.payload.length, 10);
  });

  it('reads TCP ports behind header options, and none from ICMP or later fragments', () => {
    const tcp = buildIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IP_PROTO_TCP, payload: buildTcpSyn(40000, 80) });
    // Insert 4 bytes of options (NOP x4): IHL 6.
    const withOpts = Buffer.concat([tcp.subarray(0, 20), Buffer.from([1, 1, 1, 1]), tcp.subarray(20)]);
    withOpts.writeUInt8(0x46, 0);
    withOpts.writeUInt16BE(withOpts.length, 2);
    assert.deepEqual(value(parseIpv4(withOpts)).ports, { srcPort: 40000, dstPort: 80 });

    const icmp = buildIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IP_PROTO_ICMP, payload: Buffer.alloc(8) });
    assert.equal(value(parseIpv4(icmp)).ports, undefined);

    const frag = Buffer.from(tcp);
    frag.writeUInt16BE(0x0010, 6);
    const f = value(parseIpv4(frag));
    assert.equal(f.fragmentOffset, 16);
    assert.equal(f.ports, undefined);
  });

  it('bounds the payload by the total length (Ethernet padding is not payload)', () => {
    const pkt = buildIpv4({ src: '1.2.3.4', dst: '5.6.7.8', protocol: IP_PROTO_ICMP, payload: Buffer.alloc(4) });
    const padded = Buffer.concat([pkt, Buffer.alloc(22)]);
    assert.equal(value(parseIpv4(padded)).payload.length, 4);
  });

  it('codes bad versions, header lengths, total lengths and cut ports', () => {
    const pkt = buildIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IP_PROTO_TCP, payload: buildTcpSyn(1, 2) });
    const mutate = (f: (b: Buffer) => void): string => {
      const b = Buffer.from(pkt);
      f(b);
      const r = parseIpv4(b);
      return r.ok ? 'ok' : r.code;
    };
    assert.equal(mutate((b) => b.writeUInt8(0x65, 0)), 'PKT_BAD_FIELD');
    assert.equal(mutate((b) => b.writeUInt8(0x44, 0)), 'PKT_BAD_FIELD');
    assert.equal(mutate((b) => b.writeUInt16BE(10, 2)), 'PKT_BAD_FIELD');
    assert.equal(mutate((b) => b.writeUInt8(0x4f, 0)), 'PKT_BAD_FIELD', 'options longer than the packet');
    const longOpts = Buffer.from(pkt);
    longOpts.writeUInt8(0x46, 0);
    const cutOpts = parseIpv4(longOpts.subarray(0, 22));
    assert.ok(!cutOpts.ok && cutOpts.code === 'PKT_TRUNCATED', 'options cut by the capture length');
    const cut = parseIpv4(pkt.subarray(0, 22));
    assert.ok(!cut.ok && cut.code === 'PKT_TRUNCATED');
    assert.ok(!parseIpv4(pkt.subarray(0, 19)).ok);
  });
});

describe('packet: LLDP', () => {
  const mine = { dpid: '00000000000000a1', port: 3, instance: '0123456789abcdef' };

  it('round-trips a meshflow discovery frame', () => {
    assert.deepEqual(value(parseMeshflowLldp(buildMeshflowLldp(mine))), mine);
    const frame = buildEthernet({ dst: LLDP_MULTICAST, src: A, ethType: ETH_TYPE_LLDP, payload: buildMeshflowLldp(mine) });
    const f = value(parseFrame(frame));
    assert.deepEqual(f.l3, { kind: 'lldp', lldp: mine });
  });

  it('lays the TLVs out as 802.1AB says: 7-bit type, 9-bit length, chassis first', () => {
    const du = buildMeshflowLldp({ ...mine, port: 4294967294 });
    assert.equal(du.readUInt16BE(0) >> 9, 1);
    assert.equal(du.readUInt16BE(0) & 0x1ff, 1 + 'dpid:00000000000000a1'.length);
    assert.equal(du[2], 7, 'chassis subtype locally assigned');
    assert.equal(value(parseMeshflowLldp(du)).port, 4294967294);
    assert.deepEqual([...du.subarray(du.length - 2)], [0, 0], 'End TLV');
  });

  it('treats LLDP without our TLV as foreign, not as an error', () => {
    // A bridge's LLDPDU: chassis (MAC subtype 4), port (name subtype 5), TTL, End.
    const foreign = Buffer.from('0207' + '04' + '000000000001' + '0405' + '05' + '65746830' + '0602' + '0078' + '0000', 'hex');
    const r = parseMeshflowLldp(foreign);
    assert.ok(!r.ok && r.code === 'PKT_NOT_THIS_PROTOCOL');
    const frame = buildEthernet({ dst: LLDP_MULTICAST, src: A, ethType: ETH_TYPE_LLDP, payload: foreign });
    assert.equal(value(parseFrame(frame)).l3.kind, 'foreign_lldp');
  });

  it('codes truncated TLVs, missing End, bad order and bad ids', () => {
    const du = buildMeshflowLldp(mine);
    for (let n = 0; n < du.length; n++) {
      const r = parseMeshflowLldp(du.subarray(0, n));
      assert.ok(!r.ok && r.code === 'PKT_TRUNCATED', `cut at ${n}`);
    }
    const badPort = buildMeshflowLldp(mine);
    const portAt = badPort.indexOf(Buffer.from([7, '3'.charCodeAt(0)]), 2);
    badPort[portAt + 1] = 'x'.charCodeAt(0);
    const r = parseMeshflowLldp(badPort);
    assert.ok(!r.ok && r.code === 'PKT_BAD_FIELD');
    const noChassis = Buffer.from('0602007' + '80000', 'hex');
    const r2 = parseMeshflowLldp(noChassis);
    assert.ok(!r2.ok && r2.code === 'PKT_BAD_FIELD');
  });
});

describe('packet: frames', () => {
  it('classifies ARP, IPv4 and others, keeping a bad inner packet as kind other', () => {
    const arp = buildEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: A, ethType: ETH_TYPE_ARP, payload: buildArp(arpRequest(A, '10.0.0.1', '10.0.0.2')) });
    assert.equal(value(parseFrame(arp)).l3.kind, 'arp');
    const ip = buildEthernet({ dst: B, src: A, vlans: [{ pcp: 0, dei: false, vid: 5 }], ethType: ETH_TYPE_IPV4, payload: buildIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 1, payload: Buffer.alloc(8) }) });
    assert.equal(value(parseFrame(ip)).l3.kind, 'ipv4');
    const badIp = buildEthernet({ dst: B, src: A, ethType: ETH_TYPE_IPV4, payload: Buffer.alloc(3) });
    const l3 = value(parseFrame(badIp)).l3;
    assert.equal(l3.kind, 'other');
    assert.ok(l3.kind === 'other' && l3.error?.code === 'PKT_TRUNCATED');
    const v6 = buildEthernet({ dst: B, src: A, ethType: 0x86dd, payload: Buffer.alloc(40) });
    assert.deepEqual(value(parseFrame(v6)).l3, { kind: 'other' });
  });
});

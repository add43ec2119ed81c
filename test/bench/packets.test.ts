// The emulator writes its packet-ins byte by byte for speed: they must still be the OpenFlow
// messages and frames they claim to be, as the project's own codec and packet parser read them.
import assert from 'node:assert/strict';
import { decode, OFP_NO_BUFFER } from 'openflow-ts';
import { parseFrame } from '../../controller/packet/index.ts';
import { readTag, STORM_PACKET_IN_LEN, TAGGED_PACKET_IN_LEN, writeStormPacketIn, writeTaggedPacketIn } from '../../bench/emu/packets.ts';
import { cbenchHostAddr, type CbenchShape } from '../../bench/emu/wiring.ts';

const shape: CbenchShape = { switches: 16, macs: 4000, dests: 4 };

function packetInOf(buf: Buffer) {
  const m = decode(buf);
  assert.equal(m.type, 'packet_in');
  if (m.type !== 'packet_in') throw new Error('unreachable');
  return m;
}

describe('emulated packet-ins', () => {
  it('cbench frames are IPv4/UDP between the hosts the wiring names, tagged with switch and sequence', () => {
    const buf = Buffer.alloc(2 * TAGGED_PACKET_IN_LEN);
    writeTaggedPacketIn(buf, TAGGED_PACKET_IN_LEN, 77, 1, shape, 15, 3999, 4003, 0xfffffff0);
    const m = packetInOf(buf.subarray(TAGGED_PACKET_IN_LEN));
    assert.equal(m.xid, 77);
    assert.equal(m.bufferId, OFP_NO_BUFFER);
    assert.equal(m.reason, 0);
    assert.deepEqual(m.match, [{ field: 'in_port', value: 1 }]);
    assert.equal(m.totalLen, m.data.length);
    const f = parseFrame(m.data);
    assert.ok(f.ok);
    const src = cbenchHostAddr(shape, 15, 3999);
    const dst = cbenchHostAddr(shape, 15, 4003);
    assert.equal(f.value.eth.src, src.mac);
    assert.equal(f.value.eth.dst, dst.mac);
    assert.equal(f.value.l3.kind, 'ipv4');
    if (f.value.l3.kind === 'ipv4') {
      assert.equal(f.value.l3.ip.src, src.ipv4);
      assert.equal(f.value.l3.ip.dst, dst.ipv4);
      assert.equal(f.value.l3.ip.protocol, 17);
    }
    assert.deepEqual(readTag(m.data), { switchIndex: 15, seq: 0xfffffff0 });
  });

  it('hosts of different switches never share an address', () => {
    const macs = new Set<string>();
    const ips = new Set<string>();
    for (const i of [0, 1, 255, 256, 1279]) {
      for (const j of [0, 1, 3999, 4000, 4003]) {
        const h = cbenchHostAddr(shape, i, j);
        macs.add(h.mac);
        ips.add(h.ipv4);
      }
    }
    assert.equal(macs.size, 25);
    assert.equal(ips.size, 25);
  });

  it('storm frames are ARP requests, each from a new MAC and address', () => {
    const buf = Buffer.alloc(2 * STORM_PACKET_IN_LEN);
    writeStormPacketIn(buf, 0, 1, 0x01020304);
    writeStormPacketIn(buf, STORM_PACKET_IN_LEN, 2, 0x01020305);
    const seen = [0, 1].map((k) => {
      const m = packetInOf(buf.subarray(k * STORM_PACKET_IN_LEN, (k + 1) * STORM_PACKET_IN_LEN));
      const f = parseFrame(m.data);
      assert.ok(f.ok);
      assert.equal(f.value.l3.kind, 'arp');
      if (f.value.l3.kind !== 'arp') throw new Error('unreachable');
      assert.equal(f.value.l3.arp.senderMac, f.value.eth.src);
      assert.equal(f.value.l3.arp.targetIp, '10.255.255.254');
      return `${f.value.eth.src} ${f.value.l3.arp.senderIp}`;
    });
    assert.deepEqual(seen, ['0e:5c:01:02:03:04 10.202.3.4', '0e:5c:01:02:03:05 10.202.3.5']);
  });
});

// Address text helpers: MAC, IPv4, and RFC 5952 canonical IPv6 both ways.
import assert from 'node:assert/strict';
import { formatIpv6, writeIpv4, writeIpv6, writeMac, formatMac } from 'openflow-ts/wire';
import { OpenFlowError } from 'openflow-ts';

const v6 = (s: string): string => {
  const b = Buffer.alloc(16);
  writeIpv6(b, 0, s);
  return formatIpv6(b, 0);
};

describe('openflow: address text', () => {
  for (const [input, canonical] of [
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['FE80:0000:0000:0000:0A60:6EFF:FE7F:74E7', 'fe80::a60:6eff:fe7f:74e7'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
  ] as const) {
    it(`IPv6 ${input} → ${canonical}`, () => assert.equal(v6(input), canonical));
  }

  for (const bad of ['1:2:3', '1::2::3', '12345::', 'g::', '1:2:3:4:5:6:7:8:9']) {
    it(`rejects IPv6 ${bad}`, () => assert.throws(() => v6(bad), OpenFlowError));
  }

  it('MAC both ways', () => {
    const b = Buffer.alloc(6);
    writeMac(b, 0, 'F2:0B:a4:7d:f8:EA');
    assert.equal(formatMac(b, 0), 'f2:0b:a4:7d:f8:ea');
    assert.throws(() => writeMac(b, 0, 'f2:0b:a4:7d:f8'), OpenFlowError);
  });

  it('IPv4 rejects out-of-range and short forms', () => {
    const b = Buffer.alloc(4);
    writeIpv4(b, 0, '255.0.10.1');
    assert.deepStrictEqual([...b], [255, 0, 10, 1]);
    for (const bad of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '1..2.3', 'a.b.c.d']) assert.throws(() => writeIpv4(b, 0, bad), OpenFlowError);
  });
});

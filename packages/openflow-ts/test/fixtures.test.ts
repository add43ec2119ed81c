// Every fixture both ways (mqtt-packet's testParseGenerate): decode gives the expected value,
// encoding the decoded value and encoding the expected value both give the bytes back. The
// fixtures are Open vSwitch's own bytes where ovs-ofctl can produce them, each checked by
// ofp-print and tshark (scripts/fixtures.ts; see fixtures/README.md).
import assert from 'node:assert/strict';
import { decode, encode, MESSAGE_TYPE_NAMES, MULTIPART_CODES, type OfMessage } from 'openflow-ts';
import { fixtureIndex, loadFixture } from './support/fixture-json.ts';

const index = fixtureIndex();

describe('openflow-ts: fixtures', () => {
  for (const entry of index) {
    describe(`${entry.name} (${entry.source})`, () => {
      const f = loadFixture(entry);
      it('decodes to the expected value', () => assert.deepStrictEqual(decode(f.bytes), f.expected));
      it('re-encodes the decoded value byte for byte', () => assert.deepStrictEqual(encode(decode(f.bytes)), f.bytes));
      it('encodes the expected value to the bytes', () => assert.deepStrictEqual(encode(f.expected as OfMessage), f.bytes));
    });
  }

  it('has a fixture for every message type', () => {
    const names = new Set(index.map((e) => e.name.split('.')[0]));
    const missing = MESSAGE_TYPE_NAMES.filter((t) => !names.has(t));
    assert.deepStrictEqual(missing, []);
  });

  it('has a request and a reply fixture for every multipart kind', () => {
    const names = new Set(index.map((e) => e.name));
    const missing: string[] = [];
    for (const kind of Object.keys(MULTIPART_CODES)) {
      for (const dir of ['multipart_request', 'multipart_reply']) if (!names.has(`${dir}.${kind}`)) missing.push(`${dir}.${kind}`);
    }
    assert.deepStrictEqual(missing, []);
  });

  it('keeps the bytes Open vSwitch produced for the nine bodies that had only shared vectors', () => {
    const ovs = new Set(index.filter((e) => e.source === 'ovs').map((e) => e.name));
    for (const kind of ['desc', 'table', 'queue', 'group', 'group_features', 'meter', 'meter_config', 'meter_features', 'table_features']) {
      assert.ok(ovs.has(`multipart_reply.${kind}`), `multipart_reply.${kind} is captured from Open vSwitch`);
    }
  });
});

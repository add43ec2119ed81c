// The description tables: one entry per wire code, each entry's code matching its tag, and
// decode/encode reaching every entry (a wrong code in an entry would be caught at load;
// these tests say which entry).
import assert from 'node:assert/strict';
import * as of from 'openflow-ts';
import { MESSAGE_CODECS, MULTIPART_ENTRIES } from 'openflow-ts/wire';

describe('openflow-ts: description tables', () => {
  it('gives every OFPT code one message entry, in the order of MESSAGE_TYPE_NAMES', () => {
    const entries = Object.values(MESSAGE_CODECS);
    assert.equal(entries.length, of.MESSAGE_TYPE_NAMES.length);
    for (const e of entries) assert.equal(of.MESSAGE_TYPE_NAMES[e.code], e.tag, `${e.tag} has code ${e.code}`);
  });

  it('gives every multipart kind its OFPMP code', () => {
    for (const [kind, e] of Object.entries(MULTIPART_ENTRIES)) {
      assert.equal(e.kind, kind);
      assert.equal(of.MULTIPART_CODES[kind as keyof typeof of.MULTIPART_CODES], e.code);
    }
    assert.equal(MULTIPART_ENTRIES.table_features.code, of.OFPMP_TABLE_FEATURES);
    assert.equal(MULTIPART_ENTRIES.experimenter.code, of.OFPMP_EXPERIMENTER);
  });

  it('rejects a message type past the table with OF_ERR_BAD_TYPE', () => {
    const frame = Buffer.from('041e000800000009', 'hex'); // type 30
    assert.throws(() => of.decode(frame), (e: unknown) => e instanceof of.OpenFlowError && e.code === 'OF_ERR_BAD_TYPE' && e.xid === 9);
  });

  it('keeps an unknown multipart type raw, both ways', () => {
    const frame = Buffer.from('0413001400000005' + '00630000' + '00000000' + 'deadbeef', 'hex');
    const msg = of.decode(frame);
    assert.deepStrictEqual(msg, { type: 'multipart_reply', xid: 5, flags: 0, body: { kind: 'unknown', mpType: 0x63, data: Buffer.from('deadbeef', 'hex') } });
    assert.deepStrictEqual(of.encode(msg), frame);
  });
});

// encodeAll: a batch in one buffer is exactly the messages encoded one by one with consecutive xids.
import assert from 'node:assert/strict';
import { decode, encode, encodeAll, flowMod, FrameReader, OpenFlowError } from 'openflow-ts';
import type { OfMessage, Unnumbered } from 'openflow-ts';

const batch: Unnumbered[] = [
  flowMod({ priority: 10, match: [{ field: 'in_port', value: 1 }], instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: 0 }] }] }),
  { type: 'packet_out', bufferId: 0xffffffff, inPort: 1, actions: [{ type: 'output', port: 3, maxLen: 0 }], data: Buffer.from('frame') },
  { type: 'meter_mod', command: 0, flags: 2, meterId: 1, bands: [{ type: 'drop', rate: 100, burstSize: 0 }] },
  { type: 'barrier_request' },
];

describe('encodeAll', () => {
  it('equals the messages encoded one by one, numbered from the first xid', () => {
    const out = encodeAll(batch, 41);
    const one = Buffer.concat(batch.map((m, i) => encode({ ...m, xid: 41 + i } as OfMessage)));
    assert.deepEqual(out, one);
    const frames = new FrameReader().push(out).map(decode);
    assert.deepEqual(frames.map((m) => [m.type, m.xid]), [['flow_mod', 41], ['packet_out', 42], ['meter_mod', 43], ['barrier_request', 44]]);
  });

  it('refuses a batch with a message that cannot be put on the wire, naming the fault', () => {
    assert.throws(() => encodeAll([...batch, flowMod({ priority: 0x10000 })], 1), (err: unknown) => err instanceof OpenFlowError && err.code === 'OF_ERR_ENCODE');
  });

  it('encodes an empty batch as nothing', () => {
    assert.equal(encodeAll([], 1).length, 0);
  });
});

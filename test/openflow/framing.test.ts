// FrameReader: frames split across chunks, many frames per chunk, bad length fields
// (ws receiver tests split input on purpose the same way).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode, encode, FrameReader, OpenFlowError, type OfMessage } from 'openflow-ts';

const echo = (xid: number, n: number): OfMessage => ({ type: 'echo_request', xid, data: Buffer.alloc(n, xid & 0xff) });
const isBadLength = (e: unknown): boolean => e instanceof OpenFlowError && e.code === 'OF_ERR_BAD_LENGTH';

describe('openflow: FrameReader', () => {
  it('reassembles a message fed one byte at a time', () => {
    const bytes = encode(echo(7, 100));
    const r = new FrameReader();
    const out: Buffer[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const got = r.push(bytes.subarray(i, i + 1));
      if (i < bytes.length - 1) assert.equal(got.length, 0);
      out.push(...got);
    }
    assert.equal(out.length, 1);
    assert.deepStrictEqual(out[0], bytes);
    assert.equal(r.pending, 0);
  });

  it('returns every message of one chunk, as views of that chunk', () => {
    const msgs = [echo(1, 0), echo(2, 5), { type: 'barrier_request', xid: 3 } as const, echo(4, 300)];
    const chunk = Buffer.concat(msgs.map(encode));
    const frames = new FrameReader().push(chunk);
    assert.equal(frames.length, 4);
    frames.forEach((f, i) => {
      assert.equal(f.buffer, chunk.buffer, 'copy-free subarray');
      assert.deepStrictEqual(decode(f), msgs[i]);
    });
  });

  it('keeps a partial tail and completes it with the next chunk', () => {
    const a = encode(echo(1, 10));
    const b = encode(echo(2, 20));
    const all = Buffer.concat([a, b]);
    const r = new FrameReader();
    const first = r.push(all.subarray(0, a.length + 3));
    assert.equal(first.length, 1);
    assert.equal(r.pending, 3);
    const second = r.push(all.subarray(a.length + 3));
    assert.equal(second.length, 1);
    assert.deepStrictEqual(second[0], b);
  });

  it('frames any split of a message stream (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 200 })), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }),
        (specs, cuts) => {
          const encoded = specs.map(([x, n]) => encode(echo(x, n)));
          const stream = Buffer.concat(encoded);
          const r = new FrameReader();
          const out: Buffer[] = [];
          let off = 0;
          for (let i = 0; off < stream.length; i++) {
            const n = cuts[i % cuts.length]!;
            out.push(...r.push(stream.subarray(off, off + n)));
            off += n;
          }
          assert.deepStrictEqual(out, encoded);
          assert.equal(r.pending, 0);
        },
      ),
    );
  });

  it('ignores an empty chunk', () => {
    assert.deepStrictEqual(new FrameReader().push(Buffer.alloc(0)), []);
  });

  it('rejects a length field below 8 with OF_ERR_BAD_LENGTH', () => {
    const bad = Buffer.from('0402000700000001', 'hex');
    assert.throws(() => new FrameReader().push(bad), isBadLength);
  });

  it('rejects a length field below 8 even when it arrives split', () => {
    const r = new FrameReader();
    r.push(Buffer.from('04', 'hex'));
    r.push(Buffer.from('02', 'hex'));
    r.push(Buffer.from('00', 'hex'));
    assert.throws(() => r.push(Buffer.from('04', 'hex')), isBadLength);
  });

  it('rejects a length field above the maximum before buffering the body', () => {
    const r = new FrameReader({ maxMessageLength: 1024 });
    const header = Buffer.from('0402080000000001', 'hex'); // claims 2048 bytes
    assert.throws(() => r.push(header), (e: unknown) => isBadLength(e) && /exceeds/.test((e as Error).message));
  });

  it('accepts exactly the maximum length', () => {
    const r = new FrameReader({ maxMessageLength: 64 });
    const bytes = encode(echo(1, 56));
    assert.equal(r.push(bytes).length, 1);
  });

  it('does not check the version byte (the session decides)', () => {
    const v1hello = Buffer.from('0100000800000001', 'hex');
    assert.deepStrictEqual(new FrameReader().push(v1hello), [v1hello]);
  });
});

// The stream framer fed every fixture back to back, cut at every possible place and in
// random chunks: it must give back exactly the fixtures, in order, whatever TCP does.
import assert from 'node:assert/strict';
import { decode, FrameReader, OpenFlowError } from 'openflow-ts';
import { fixtureIndex, loadFixture } from './support/fixture-json.ts';

const frames = fixtureIndex()
  .map(loadFixture)
  .map((f) => f.bytes)
  .filter((b) => b.length < 4096); // the big table fixtures add time, not cases
const stream = Buffer.concat(frames);

function feed(chunks: readonly Buffer[]): Buffer[] {
  const reader = new FrameReader();
  const out: Buffer[] = [];
  for (const c of chunks) out.push(...reader.push(c));
  assert.equal(reader.pending, 0);
  return out;
}

describe('openflow-ts: framing', () => {
  it('returns the fixtures from one chunk', () => assert.deepStrictEqual(feed([stream]), frames));

  it('returns the fixtures when the stream is cut in two anywhere', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const got = feed([stream.subarray(0, cut), stream.subarray(cut)]);
      assert.equal(got.length, frames.length, `cut at ${cut}`);
      assert.ok(got.every((g, i) => g.equals(frames[i]!)), `cut at ${cut}`);
    }
  });

  it('returns the fixtures from byte-sized and random chunks', () => {
    const bytes = [...stream].map((b) => Buffer.from([b]));
    assert.deepStrictEqual(feed(bytes), frames);
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % 97;
    const chunks: Buffer[] = [];
    for (let off = 0; off < stream.length; ) {
      const n = 1 + rand();
      chunks.push(stream.subarray(off, off + n));
      off += n;
    }
    const got = feed(chunks);
    assert.deepStrictEqual(got, frames);
    for (const f of got) decode(f);
  });

  it('rejects a length below the header before buffering the body', () => {
    const reader = new FrameReader();
    assert.throws(() => reader.push(Buffer.from('04000004', 'hex')), (e: unknown) => e instanceof OpenFlowError && e.code === 'OF_ERR_BAD_LENGTH');
  });

  it('rejects a length above its limit as soon as the length field is in', () => {
    const reader = new FrameReader({ maxMessageLength: 1024 });
    reader.push(Buffer.from('0413', 'hex'));
    assert.throws(() => reader.push(Buffer.from('0401', 'hex')), (e: unknown) => e instanceof OpenFlowError && e.code === 'OF_ERR_BAD_LENGTH');
  });
});

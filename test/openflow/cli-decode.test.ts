// The `meshflow decode` command's pure parts: splitting a byte stream, JSON lines, hex input.
import assert from 'node:assert/strict';
import { decodeStream, parseHex, toJsonLine } from '../../cli/decode.ts';
import { encode } from 'openflow-ts';

describe('cli: meshflow decode', () => {
  const a = encode({ type: 'echo_request', xid: 1, data: Buffer.from('hi') });
  const b = encode({ type: 'role_request', xid: 2, role: 2, generationId: 0xf000000000000000n });

  it('decodes concatenated messages with their offsets', () => {
    const r = decodeStream(Buffer.concat([a, b]));
    assert.equal(r.error, undefined);
    assert.deepStrictEqual(r.messages.map((m) => [m.offset, m.message.type]), [
      [0, 'echo_request'],
      [a.length, 'role_request'],
    ]);
  });

  it('prints bigints as decimal strings and Buffers as hex', () => {
    const r = decodeStream(Buffer.concat([a, b]));
    assert.equal(toJsonLine(r.messages[0]!.message), '{"type":"echo_request","xid":1,"data":"6869"}');
    assert.equal(toJsonLine(r.messages[1]!.message), '{"type":"role_request","xid":2,"role":2,"generationId":"17293822569102704640"}');
  });

  it('stops at a malformed message, keeping what decoded before it and its offset', () => {
    const bad = Buffer.from('0463000800000009', 'hex');
    const r = decodeStream(Buffer.concat([a, bad, b]));
    assert.equal(r.messages.length, 1);
    assert.deepStrictEqual(r.error && [r.error.offset, r.error.code], [a.length, 'OF_ERR_BAD_TYPE']);
  });

  it('reports a message that runs past the input', () => {
    const r = decodeStream(a.subarray(0, a.length - 1));
    assert.deepStrictEqual(r.error && [r.error.offset, r.error.code], [0, 'OF_ERR_TRUNCATED']);
  });

  it('reports a length field below 8', () => {
    const r = decodeStream(Buffer.from('0402000400000000', 'hex'));
    assert.equal(r.error?.code, 'OF_ERR_BAD_LENGTH');
  });

  it('reads hex with whitespace and rejects non-hex', () => {
    assert.deepStrictEqual(parseHex(' 04 02\n0008 0000 0001 '), Buffer.from('0402000800000001', 'hex'));
    assert.throws(() => parseHex('0g'));
    assert.throws(() => parseHex('040'));
  });
});

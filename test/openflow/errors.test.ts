// One test per OpenFlowError code (ws style): the input that causes it, the code, and the
// OFPET/code pair the session should answer with.
import assert from 'node:assert/strict';
import {
  decode,
  encode,
  FrameReader,
  OF_ERROR_CODES,
  OFPBAC_BAD_LEN,
  OFPBAC_BAD_TYPE,
  OFPBIC_UNKNOWN_INST,
  OFPBMC_BAD_LEN,
  OFPBMC_BAD_TYPE,
  OFPBRC_BAD_LEN,
  OFPBRC_BAD_TYPE,
  OFPBRC_BAD_VERSION,
  OFPET_BAD_ACTION,
  OFPET_BAD_INSTRUCTION,
  OFPET_BAD_MATCH,
  OFPET_BAD_REQUEST,
  OpenFlowError,
  type OfMessage,
} from 'openflow-ts';
import { asOpenFlowError } from 'openflow-ts/wire';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function expectError(fn: () => unknown, code: string, ofp?: { type: number; code: number }, xid?: number): OpenFlowError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof OpenFlowError, `expected OpenFlowError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.deepStrictEqual(caught.ofpError, ofp);
  if (xid !== undefined) assert.equal(caught.xid, xid);
  return caught;
}

const flowModHead = (matchType: string, matchLen: string, oxms: string, instructions = ''): Buffer => {
  const body = hex(
    '0000000000000000 0000000000000000 00 00 0000 0000 0000 ffffffff ffffffff ffffffff 0000 0000' + matchType + matchLen + oxms + instructions,
  );
  const frame = Buffer.concat([hex('040e000000000009'), body]);
  frame.writeUInt16BE(frame.length, 2);
  return frame;
};

describe('openflow: error codes', () => {
  const tested = new Set<string>();
  afterEach(function () {
    const m = /^(OF_ERR_\w+)/.exec(this.currentTest?.title ?? '');
    if (m && this.currentTest?.state === 'passed') tested.add(m[1]!);
  });
  after(() => {
    const missing = OF_ERROR_CODES.filter((c) => !tested.has(c));
    assert.deepStrictEqual(missing, [], `codes without a test: ${missing.join(', ')}`);
  });

  it('OF_ERR_BAD_LENGTH: header length differs from the frame size', () => {
    expectError(() => decode(hex('0402 0010 0000002a 00')), 'OF_ERR_BAD_LENGTH', { type: OFPET_BAD_REQUEST, code: OFPBRC_BAD_LEN }, 42);
  });

  it('OF_ERR_BAD_LENGTH: a frame shorter than the header', () => {
    expectError(() => decode(hex('0402')), 'OF_ERR_BAD_LENGTH', { type: OFPET_BAD_REQUEST, code: OFPBRC_BAD_LEN });
  });

  it('OF_ERR_BAD_LENGTH: a fixed-size body with extra bytes (barrier_request)', () => {
    expectError(() => decode(hex('0414 000c 00000001 deadbeef')), 'OF_ERR_BAD_LENGTH', { type: OFPET_BAD_REQUEST, code: OFPBRC_BAD_LEN }, 1);
  });

  it('OF_ERR_BAD_LENGTH: FrameReader length field below 8', () => {
    expectError(() => new FrameReader().push(hex('0400 0004 00000000')), 'OF_ERR_BAD_LENGTH', { type: OFPET_BAD_REQUEST, code: OFPBRC_BAD_LEN });
  });

  it('OF_ERR_TRUNCATED: packet_in shorter than its fixed part', () => {
    expectError(() => decode(hex('040a 000c 00000005 ffffffff')), 'OF_ERR_TRUNCATED', { type: OFPET_BAD_REQUEST, code: OFPBRC_BAD_LEN }, 5);
  });

  it('OF_ERR_BAD_VERSION: an OpenFlow 1.0 echo request', () => {
    expectError(() => decode(hex('0102 0008 00000003')), 'OF_ERR_BAD_VERSION', { type: OFPET_BAD_REQUEST, code: OFPBRC_BAD_VERSION }, 3);
  });

  it('OF_ERR_BAD_VERSION does not apply to hello, whose layout every version shares', () => {
    assert.deepStrictEqual(decode(hex('0100 0008 00000003')), { type: 'hello', xid: 3, elements: [] });
  });

  it('OF_ERR_BAD_TYPE: message type 99', () => {
    expectError(() => decode(hex('0463 0008 00000004')), 'OF_ERR_BAD_TYPE', { type: OFPET_BAD_REQUEST, code: OFPBRC_BAD_TYPE }, 4);
  });

  it('OF_ERR_BAD_MATCH: match type is not OFPMT_OXM', () => {
    expectError(() => decode(flowModHead('0000', '0004', '00000000')), 'OF_ERR_BAD_MATCH', { type: OFPET_BAD_MATCH, code: OFPBMC_BAD_TYPE }, 9);
  });

  it('OF_ERR_BAD_MATCH: an OXM whose length is wrong for its field (in_port of 3 bytes)', () => {
    expectError(() => decode(flowModHead('0001', '000b', '80000003 000001 00000000 00')), 'OF_ERR_BAD_MATCH', { type: OFPET_BAD_MATCH, code: OFPBMC_BAD_LEN });
  });

  it('OF_ERR_BAD_ACTION: an action length that is not a multiple of 8', () => {
    const po = hex('040d 0000 00000006 ffffffff fffffffd 000c 000000000000 0000 000c 00000001 0000');
    po.writeUInt16BE(po.length, 2);
    expectError(() => decode(po), 'OF_ERR_BAD_ACTION', { type: OFPET_BAD_ACTION, code: OFPBAC_BAD_LEN }, 6);
  });

  it('OF_ERR_BAD_ACTION: an unknown action type', () => {
    const po = hex('040d 0000 00000006 ffffffff fffffffd 0008 000000000000 0005 0008 00000000');
    po.writeUInt16BE(po.length, 2);
    expectError(() => decode(po), 'OF_ERR_BAD_ACTION', { type: OFPET_BAD_ACTION, code: OFPBAC_BAD_TYPE });
  });

  it('OF_ERR_BAD_INSTRUCTION: an unknown instruction type', () => {
    expectError(() => decode(flowModHead('0001', '0004', '00000000', '0009 0008 00000000')), 'OF_ERR_BAD_INSTRUCTION', {
      type: OFPET_BAD_INSTRUCTION,
      code: OFPBIC_UNKNOWN_INST,
    });
  });

  it('OF_ERR_BAD_PROPERTY: a hello element whose length is below its header', () => {
    expectError(() => decode(hex('0400 0010 00000001 0001 0002 00000000')), 'OF_ERR_BAD_PROPERTY', { type: OFPET_BAD_REQUEST, code: OFPBRC_BAD_LEN }, 1);
  });

  it('OF_ERR_ENCODE: a MAC address that is not one', () => {
    const msg: OfMessage = { type: 'port_mod', xid: 1, portNo: 1, hwAddr: 'not-a-mac', config: 0, mask: 0, advertise: 0 };
    expectError(() => encode(msg), 'OF_ERR_ENCODE');
  });

  it('OF_ERR_ENCODE: a number out of its field range', () => {
    const msg: OfMessage = { type: 'table_mod', xid: 1, tableId: 256, config: 0 };
    expectError(() => encode(msg), 'OF_ERR_ENCODE');
  });

  it('OF_ERR_ENCODE: a message over 65535 bytes', () => {
    expectError(() => encode({ type: 'echo_request', xid: 1, data: Buffer.alloc(70000) }), 'OF_ERR_ENCODE');
  });

  it('OF_ERR_INTERNAL: the safety net wraps a foreign exception', () => {
    const e = asOpenFlowError(new TypeError('boom'));
    assert.ok(e instanceof OpenFlowError);
    assert.equal(e.code, 'OF_ERR_INTERNAL');
    assert.ok(e.cause instanceof TypeError);
    const same = new OpenFlowError('OF_ERR_TRUNCATED', 'x');
    assert.equal(asOpenFlowError(same), same);
  });
});

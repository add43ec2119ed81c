import { FrameReader, decode, OpenFlowError } from 'openflow-ts';

// Two messages as TCP might deliver them: split in the middle of the second one.
const hello = Buffer.from('04000010000000010001000800000010', 'hex');
const echo = Buffer.from('0402000c00000002cafef00d', 'hex');
const chunks = [Buffer.concat([hello, echo.subarray(0, 5)]), echo.subarray(5)];

const reader = new FrameReader();
for (const chunk of chunks) {
  for (const frame of reader.push(chunk)) {
    try {
      const msg = decode(frame);
      console.log(msg.type, msg.xid); // hello 1, then echo_request 2
    } catch (e) {
      if (!(e instanceof OpenFlowError)) throw e;
      console.log(e.code, e.ofpError); // e.g. OF_ERR_BAD_MATCH { type: 4, code: 1 }: what to answer with
    }
  }
}

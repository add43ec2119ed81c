// The two multipart messages (spec 7.3.5): an 8-byte multipart header (type, flags,
// pad), then a body chosen by the multipart type from the tables in ../multipart.
import { OFPT_MULTIPART_REPLY, OFPT_MULTIPART_REQUEST } from '../constants.ts';
import {
  multipartCode,
  multipartReplyBodySize,
  multipartRequestBodySize,
  readMultipartReplyBody,
  readMultipartRequestBody,
  writeMultipartReplyBody,
  writeMultipartRequestBody,
  type MultipartReplyBody,
  type MultipartRequestBody,
} from '../multipart/index.ts';
import type { MessageCodec } from './codec.ts';

/** ofp_multipart_request/reply before the body: type, flags, pad(4). */
const MULTIPART_HEADER_LEN = 8;

export interface MultipartRequest {
  readonly type: 'multipart_request';
  readonly xid: number;
  readonly flags: number;
  readonly body: MultipartRequestBody;
}
export interface MultipartReply {
  readonly type: 'multipart_reply';
  readonly xid: number;
  readonly flags: number;
  readonly body: MultipartReplyBody;
}

export const multipartRequest: MessageCodec<MultipartRequest> = {
  code: OFPT_MULTIPART_REQUEST,
  tag: 'multipart_request',
  size: (m) => MULTIPART_HEADER_LEN + multipartRequestBodySize(m.body),
  read(r, xid) {
    r.need(MULTIPART_HEADER_LEN, 'multipart header');
    const mpType = r.u16();
    const flags = r.u16();
    r.skip(4);
    return { type: 'multipart_request', xid, flags, body: readMultipartRequestBody(r, mpType) };
  },
  write(w, m) {
    w.u16(multipartCode(m.body));
    w.u16(m.flags);
    w.pad(4);
    writeMultipartRequestBody(w, m.body);
  },
};

export const multipartReply: MessageCodec<MultipartReply> = {
  code: OFPT_MULTIPART_REPLY,
  tag: 'multipart_reply',
  size: (m) => MULTIPART_HEADER_LEN + multipartReplyBodySize(m.body),
  read(r, xid) {
    r.need(MULTIPART_HEADER_LEN, 'multipart header');
    const mpType = r.u16();
    const flags = r.u16();
    r.skip(4);
    return { type: 'multipart_reply', xid, flags, body: readMultipartReplyBody(r, mpType) };
  },
  write(w, m) {
    w.u16(multipartCode(m.body));
    w.u16(m.flags);
    w.pad(4);
    writeMultipartReplyBody(w, m.body);
  },
};

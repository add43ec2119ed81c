// Symmetric messages (spec 7.5): hello, error, echo request/reply, experimenter. Either
// side may send them; their layout needs nothing from the rest of the protocol.
import {
  OFPET_EXPERIMENTER,
  OFPHET_VERSIONBITMAP,
  OFPT_ECHO_REPLY,
  OFPT_ECHO_REQUEST,
  OFPT_ERROR,
  OFPT_EXPERIMENTER,
  OFPT_HELLO,
} from '../constants.ts';
import { badProperty, encodeError } from '../errors.ts';
import { pad8, type Reader } from '../wire.ts';
import type { MessageCodec } from './codec.ts';

/** ofp_hello_elem_header: type, length. */
const HELLO_ELEM_HEADER_LEN = 4;
/** ofp_error_msg after the header: type, code. */
const ERROR_BODY_LEN = 4;
/** The experimenter id an OFPET_EXPERIMENTER error adds. */
const ERROR_EXPERIMENTER_LEN = 4;
/** ofp_experimenter_header after the header: experimenter, exp_type. */
const EXPERIMENTER_BODY_LEN = 8;

export type HelloElement =
  | { readonly type: 'versionbitmap'; readonly versions: readonly number[] }
  | { readonly type: 'unknown'; readonly elementType: number; readonly data: Buffer };

export interface Hello { readonly type: 'hello'; readonly xid: number; readonly elements: readonly HelloElement[] }

/**
 * OFPT_ERROR. For experimenter errors (errorType 0xffff) `code` holds the 16-bit exp_code
 * that sits in the same wire slot, and `experimenter` the experimenter id; it is absent
 * on every other error.
 */
export interface ErrorMsg {
  readonly type: 'error';
  readonly xid: number;
  readonly errorType: number;
  readonly code: number;
  readonly experimenter?: number;
  readonly data: Buffer;
}

export interface EchoRequest { readonly type: 'echo_request'; readonly xid: number; readonly data: Buffer }
export interface EchoReply { readonly type: 'echo_reply'; readonly xid: number; readonly data: Buffer }
export interface Experimenter {
  readonly type: 'experimenter';
  readonly xid: number;
  readonly experimenter: number;
  readonly expType: number;
  readonly data: Buffer;
}

// ---- hello ---------------------------------------------------------------------------

function bitmapWords(versions: readonly number[]): number {
  let max = -1;
  for (const v of versions) if (v > max) max = v;
  return max < 0 ? 0 : (max >>> 5) + 1;
}

function helloElementLength(e: HelloElement): number {
  return e.type === 'versionbitmap' ? HELLO_ELEM_HEADER_LEN + 4 * bitmapWords(e.versions) : HELLO_ELEM_HEADER_LEN + e.data.length;
}

function readHelloElements(r: Reader): HelloElement[] {
  const out: HelloElement[] = [];
  while (r.pos < r.end) {
    const start = r.pos;
    r.need(HELLO_ELEM_HEADER_LEN, 'hello element');
    const type = r.u16();
    const len = r.u16();
    if (len < HELLO_ELEM_HEADER_LEN || start + len > r.end) throw badProperty(`hello element ${type} length ${len}`);
    if (type === OFPHET_VERSIONBITMAP) {
      if ((len - HELLO_ELEM_HEADER_LEN) % 4 !== 0) throw badProperty(`version bitmap length ${len}`);
      const versions: number[] = [];
      for (let word = 0; word < (len - HELLO_ELEM_HEADER_LEN) / 4; word++) {
        const bits = r.u32();
        for (let bit = 0; bit < 32; bit++) if ((bits >>> bit) & 1) versions.push(word * 32 + bit);
      }
      out.push({ type: 'versionbitmap', versions });
    } else {
      out.push({ type: 'unknown', elementType: type, data: r.bytes(len - HELLO_ELEM_HEADER_LEN) });
    }
    // Elements are padded to 8; a last element without its padding is tolerated.
    r.pos = Math.min(start + pad8(len), r.end);
  }
  return out;
}

export const hello: MessageCodec<Hello> = {
  code: OFPT_HELLO,
  tag: 'hello',
  size: (m) => m.elements.reduce((n, e) => n + pad8(helloElementLength(e)), 0),
  read: (r, xid) => ({ type: 'hello', xid, elements: readHelloElements(r) }),
  write(w, m) {
    for (const e of m.elements) {
      const start = w.pos;
      const len = helloElementLength(e);
      if (e.type === 'versionbitmap') {
        w.u16(OFPHET_VERSIONBITMAP);
        w.u16(len);
        const words = new Array<number>(bitmapWords(e.versions)).fill(0);
        for (const v of e.versions) {
          if (!Number.isInteger(v) || v < 0) throw encodeError(`hello version ${v}`);
          words[v >>> 5] = (words[v >>> 5]! | (1 << (v & 31))) >>> 0;
        }
        for (const word of words) w.u32(word);
      } else {
        w.u16(e.elementType);
        w.u16(len);
        w.bytes(e.data);
      }
      w.pos = start + pad8(len);
    }
  },
};

// ---- error ---------------------------------------------------------------------------

export const error: MessageCodec<ErrorMsg> = {
  code: OFPT_ERROR,
  tag: 'error',
  size: (m) => ERROR_BODY_LEN + (m.errorType === OFPET_EXPERIMENTER ? ERROR_EXPERIMENTER_LEN : 0) + m.data.length,
  read(r, xid) {
    r.need(ERROR_BODY_LEN, 'error');
    const errorType = r.u16();
    const code = r.u16();
    if (errorType === OFPET_EXPERIMENTER) {
      r.need(ERROR_EXPERIMENTER_LEN, 'experimenter error');
      const experimenter = r.u32();
      return { type: 'error', xid, errorType, code, experimenter, data: r.rest() };
    }
    return { type: 'error', xid, errorType, code, data: r.rest() };
  },
  write(w, m) {
    w.u16(m.errorType);
    w.u16(m.code);
    if (m.errorType === OFPET_EXPERIMENTER) w.u32(m.experimenter ?? 0);
    w.bytes(m.data);
  },
};

// ---- echo ----------------------------------------------------------------------------

/** Echo request and reply: the body is opaque data. */
function echo<T extends 'echo_request' | 'echo_reply'>(code: number, tag: T): MessageCodec<{ readonly type: T; readonly xid: number; readonly data: Buffer }> {
  return {
    code,
    tag,
    size: (m) => m.data.length,
    read: (r, xid) => ({ type: tag, xid, data: r.rest() }),
    write: (w, m) => w.bytes(m.data),
  };
}

export const echoRequest: MessageCodec<EchoRequest> = echo(OFPT_ECHO_REQUEST, 'echo_request');
export const echoReply: MessageCodec<EchoReply> = echo(OFPT_ECHO_REPLY, 'echo_reply');

// ---- experimenter --------------------------------------------------------------------

export const experimenter: MessageCodec<Experimenter> = {
  code: OFPT_EXPERIMENTER,
  tag: 'experimenter',
  size: (m) => EXPERIMENTER_BODY_LEN + m.data.length,
  read(r, xid) {
    r.need(EXPERIMENTER_BODY_LEN, 'experimenter');
    return { type: 'experimenter', xid, experimenter: r.u32(), expType: r.u32(), data: r.rest() };
  },
  write(w, m) {
    w.u32(m.experimenter);
    w.u32(m.expType);
    w.bytes(m.data);
  },
};

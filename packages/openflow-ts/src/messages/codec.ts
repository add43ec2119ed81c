// The shape every message description takes: one entry per wire structure with its code,
// its tag, its body size, and its reader and writer side by side (mqtt-packet's
// parse/generate pairs, Ryu's one class per message). The dispatch table in index.ts is
// built from these entries, so decode is a lookup by code and encode a lookup by tag.
import { badLength } from '../errors.ts';
import type { Reader, Writer } from '../wire.ts';

/** The header every message shares; the codec fills it in, a description never sees it. */
export interface MessageBase {
  readonly type: string;
  readonly xid: number;
}

export interface MessageCodec<M extends MessageBase> {
  /** OFPT_* wire code. */
  readonly code: number;
  /** The message's `type` tag. */
  readonly tag: M['type'];
  /** Bytes after the 8-byte header. */
  size(m: M): number;
  /** Reads the body; the cursor's limit is the end of the message. */
  read(r: Reader, xid: number): M;
  /** Writes exactly size(m) bytes into a zero-filled buffer. */
  write(w: Writer, m: M): void;
}

/** Throws unless the body is exactly n bytes (fixed-size messages). */
export function expectBody(r: Reader, n: number, what: string): void {
  if (r.end - r.pos !== n) throw badLength(`${what} body is ${r.end - r.pos} bytes, wants ${n}`);
}

/** A message that is only a header (features_request, barrier_*, …). */
export function headerOnly<T extends string>(code: number, tag: T): MessageCodec<{ readonly type: T; readonly xid: number }> {
  return {
    code,
    tag,
    size: () => 0,
    read(r, xid) {
      expectBody(r, 0, tag);
      return { type: tag, xid };
    },
    write() {},
  };
}

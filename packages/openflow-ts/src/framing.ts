// Stream framing for a switch connection (ws receiver style). push() takes whatever TCP
// delivered and returns the whole frames it completes. A frame that lies inside one chunk
// is returned as a view of that chunk; only a frame split across chunks is copied, once.
// The length field is checked as soon as the 4 header bytes that carry it are present,
// before any body is buffered. The version byte is left to the session.
import { OFP_HEADER_LEN } from './constants.ts';
import { badLength } from './errors.ts';

export interface FrameReaderOptions {
  /** Largest accepted message, header included; defaults to the protocol maximum 65535. */
  readonly maxMessageLength?: number;
}

export class FrameReader {
  readonly maxMessageLength: number;
  /** Unconsumed chunks, oldest first; the first one is consumed from `offset`. */
  private chunks: Buffer[] = [];
  private offset = 0;
  private buffered = 0;

  constructor(opts: FrameReaderOptions = {}) {
    this.maxMessageLength = opts.maxMessageLength ?? 0xffff;
  }

  /** Bytes held while waiting for the rest of a frame. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    if (chunk.length === 0) return frames;
    if (this.buffered === 0) {
      // Fast path: nothing pending, slice frames straight out of this chunk.
      let off = 0;
      while (chunk.length - off >= 4) {
        const len = this.checkLength((chunk[off + 2]! << 8) | chunk[off + 3]!);
        if (chunk.length - off < len) break;
        frames.push(chunk.subarray(off, off + len));
        off += len;
      }
      if (off < chunk.length) {
        this.chunks.push(off === 0 ? chunk : chunk.subarray(off));
        this.offset = 0;
        this.buffered = chunk.length - off;
      }
      return frames;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const len = this.checkLength((this.peek(2) << 8) | this.peek(3));
      if (this.buffered < len) break;
      frames.push(this.consume(len));
    }
    return frames;
  }

  private checkLength(len: number): number {
    if (len < OFP_HEADER_LEN) throw badLength(`frame length field ${len} is below the 8-byte header`);
    if (len > this.maxMessageLength) throw badLength(`frame length field ${len} exceeds the limit of ${this.maxMessageLength}`);
    return len;
  }

  /** The byte i positions into the pending data. */
  private peek(i: number): number {
    let idx = this.offset + i;
    for (const c of this.chunks) {
      if (idx < c.length) return c[idx]!;
      idx -= c.length;
    }
    return 0; // unreachable: callers check `buffered` first
  }

  /** Removes n pending bytes: a view when they lie in the first chunk, else one copy. */
  private consume(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      if (this.offset === first.length) {
        this.chunks.shift();
        this.offset = 0;
      }
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    while (written < n) {
      const c = this.chunks[0]!;
      const take = Math.min(c.length - this.offset, n - written);
      c.copy(out, written, this.offset, this.offset + take);
      written += take;
      this.offset += take;
      if (this.offset === c.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    return out;
  }
}

// The shape of a multipart body description (spec 7.3.5): one entry per multipart type
// holds its code, its kind, and the request and reply bodies, each with size, read and
// write side by side. The tables in index.ts are built from the entries.
import { badLength } from '../errors.ts';
import type { Reader, Writer } from '../wire.ts';

export interface BodyCodec<B> {
  /** Bytes after the 8-byte multipart header. */
  size(b: B): number;
  /** Reads the body; the cursor's limit is the end of the message. */
  read(r: Reader): B;
  write(w: Writer, b: B): void;
}

export interface MultipartEntry<Req extends { readonly kind: string }, Rep extends { readonly kind: string }> {
  /** OFPMP_* wire code. */
  readonly code: number;
  readonly kind: Req['kind'] & Rep['kind'];
  readonly request: BodyCodec<Req>;
  readonly reply: BodyCodec<Rep>;
}

export function expectEmpty(r: Reader, kind: string): void {
  if (r.pos !== r.end) throw badLength(`${kind} body has ${r.end - r.pos} unexpected bytes`);
}

export function expectExactly(r: Reader, n: number, kind: string): void {
  if (r.end - r.pos !== n) throw badLength(`${kind} body is ${r.end - r.pos} bytes, wants ${n}`);
}

/** A body with nothing in it (most requests that ask for everything). */
export function emptyBody<K extends string>(kind: K): BodyCodec<{ readonly kind: K }> {
  return {
    size: () => 0,
    read(r) {
      expectEmpty(r, kind);
      return { kind };
    },
    write() {},
  };
}

/** Repeats a fixed-size record reader until the body ends; the body must be a whole number of records. */
export function readFixedList<T>(r: Reader, size: number, kind: string, one: (r: Reader) => T): T[] {
  if ((r.end - r.pos) % size !== 0) throw badLength(`${kind} body of ${r.end - r.pos} bytes is not a multiple of ${size}`);
  const out: T[] = [];
  while (r.pos < r.end) out.push(one(r));
  return out;
}

/**
 * Reads records that carry their own u16 length at `lenAt` bytes into the record; the
 * cursor's limit is narrowed to each record while `one` runs.
 */
export function readSized<T>(r: Reader, header: number, lenAt: number, kind: string, one: (r: Reader) => T): T[] {
  const out: T[] = [];
  while (r.pos < r.end) {
    const start = r.pos;
    r.need(header, kind);
    const len = r.buf.readUInt16BE(r.pos + lenAt);
    if (len < header || start + len > r.end) throw badLength(`${kind} length ${len}`);
    const outer = r.end;
    r.end = start + len;
    out.push(one(r));
    r.pos = start + len;
    r.end = outer;
  }
  return out;
}

/** Sum of a per-record size over a list. */
export function sumOf<T>(list: readonly T[], size: (t: T) => number): number {
  let n = 0;
  for (const t of list) n += size(t);
  return n;
}

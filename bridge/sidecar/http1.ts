// HTTP/1.1 message framing for the sidecar's data path (RFC 9112). A head is parsed once into
// typed parts; a body is not parsed but followed byte by byte, so its bytes pass through
// unchanged (chunked stays chunked) and the proxy knows where each message ends.

/** A request the sidecar refuses to read, with the status that says why. */
export class HttpParseError extends Error {
  constructor(
    readonly status: 400 | 431 | 501 | 505,
    message: string,
  ) {
    super(message);
  }
}

/** A head longer than this is refused (431 for a request; a response is a bad gateway). */
export const MAX_HEAD_BYTES = 64 * 1024;

interface Head {
  /** Lower-case name → value; a repeated field's values joined with ", ". Nothing inherited: a field named "constructor" is a field. */
  readonly headers: Readonly<Record<string, string>>;
  /** The field lines' lower-case names, in order. */
  readonly names: readonly string[];
  /** Where each field line lies in `raw`: its start and end (before the CRLF), two numbers a line. */
  readonly spans: readonly number[];
  /** The head's bytes: field lines are forwarded from here as they came, never re-encoded. */
  readonly raw: Buffer;
  /** HTTP/1.minor */
  readonly minor: 0 | 1;
  /** Bytes of the head, its empty line included. */
  readonly size: number;
}

export interface RequestHead extends Head {
  readonly method: string;
  readonly target: string;
}

export interface ResponseHead extends Head {
  readonly status: number;
  readonly reason: string;
}

// Byte classes of RFC 9110 §5.6.2 and §5.5: a token (field names, methods), and what a field value
// may hold: visible ASCII, obs-text, space and tab, never a CR, LF, NUL or other control.
const TOKEN = new Uint8Array(256);
const FIELD_VALUE = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN[c.charCodeAt(0)] = 1;
for (let b = 0; b < 256; b++) FIELD_VALUE[b] = b === 0x09 || (b >= 0x20 && b !== 0x7f) ? 1 : 0;
const SP = 0x20;
const HTAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Where the head ends (the index after its empty line), or -1 while it is incomplete. A head
 * longer than MAX_HEAD_BYTES, whole or not yet, is refused with 431.
 */
export function headEnd(buf: Buffer): number {
  const at = buf.indexOf('\r\n\r\n');
  if (at >= 0 && at + 4 <= MAX_HEAD_BYTES) return at + 4;
  if (at >= 0 || buf.length > MAX_HEAD_BYTES) throw new HttpParseError(431, 'head too large');
  return -1;
}

/**
 * Where the line from `from` ends: the index of its CRLF, or `limit` (the head's final CRLF) for the
 * last line; -1 for a bare CR, which no line of a head may hold (RFC 9112 §2.2).
 */
function lineEnd(buf: Buffer, from: number, limit: number): number {
  for (let i = from; i < limit; i++) if (buf[i] === CR) return buf[i + 1] === LF ? i : -1;
  return limit;
}

/** "HTTP/1.0" or "HTTP/1.1" at buf[at..at+8): its minor version, else -1. */
function httpVersion(buf: Buffer, at: number): number {
  if (buf[at] !== 0x48 || buf[at + 1] !== 0x54 || buf[at + 2] !== 0x54 || buf[at + 3] !== 0x50 || buf[at + 4] !== 0x2f) return -1;
  if (buf[at + 5] !== 0x31 || buf[at + 6] !== 0x2e) return -2; // another major version
  const m = buf[at + 7];
  return m === 0x30 ? 0 : m === 0x31 ? 1 : -2;
}

export function parseRequestHead(buf: Buffer, end: number): RequestHead {
  const last = end - 4; // where the field lines end (the final CRLF CRLF starts)
  const eol = lineEnd(buf, 0, last);
  if (eol < 0) throw new HttpParseError(400, 'malformed request line');
  // method SP target SP HTTP/1.x: a token, then visible ASCII (a URI is ASCII: a byte past 0x7e
  // could be read in one charset by the classifier's rules and in another by the replica).
  let i = 0;
  while (i < eol && TOKEN[buf[i] ?? 0]) i++;
  const sp1 = i;
  if (sp1 === 0 || buf[sp1] !== SP) throw new HttpParseError(400, 'malformed request line');
  i = sp1 + 1;
  while (i < eol && (buf[i] ?? 0) > SP && (buf[i] ?? 0) < 0x7f) i++;
  const sp2 = i;
  if (sp2 === sp1 + 1 || buf[sp2] !== SP) throw new HttpParseError(400, 'malformed request line');
  const minor = eol - sp2 === 9 ? httpVersion(buf, sp2 + 1) : -1;
  if (minor === -2) throw new HttpParseError(505, 'only HTTP/1.0 and HTTP/1.1 are served');
  if (minor < 0) throw new HttpParseError(400, 'malformed request line');
  return {
    method: buf.toString('latin1', 0, sp1),
    target: buf.toString('latin1', sp1 + 1, sp2),
    minor: minor === 0 ? 0 : 1,
    size: end,
    ...fields(buf, eol, last),
  };
}

/** A response head from a replica; an error here is the replica's fault (502 to the caller). */
export function parseResponseHead(buf: Buffer, end: number): ResponseHead {
  const last = end - 4;
  const eol = lineEnd(buf, 0, last);
  // HTTP/1.x SP status [SP reason]
  const minor = eol >= 12 ? httpVersion(buf, 0) : -1;
  const d0 = (buf[9] ?? 0) - 0x30;
  const d1 = (buf[10] ?? 0) - 0x30;
  const d2 = (buf[11] ?? 0) - 0x30;
  const digits = d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9;
  if (eol < 0 || minor < 0 || buf[8] !== SP || !digits || (eol > 12 && buf[12] !== SP)) throw new HttpParseError(400, 'malformed status line');
  for (let j = 13; j < eol; j++) if (!FIELD_VALUE[buf[j] ?? 0]) throw new HttpParseError(400, 'malformed status line');
  return {
    status: d0 * 100 + d1 * 10 + d2,
    reason: eol > 13 ? buf.toString('latin1', 13, eol) : '',
    minor: minor === 0 ? 0 : 1,
    size: end,
    ...fields(buf, eol, last),
  };
}

/**
 * A head's field map: nothing inherited, so a field named "constructor" or "__proto__" is a field,
 * yet in V8's fast object mode, which Object.create(null) is not (a dictionary, 1.2 KB a head).
 */
const FieldMap = function FieldMap() {} as unknown as new () => Record<string, string>;
FieldMap.prototype = Object.create(null) as object;

/** The field lines from after the first line's CRLF (at `eol`) up to `last`, checked as they are read. */
function fields(buf: Buffer, eol: number, last: number): Pick<Head, 'headers' | 'names' | 'spans' | 'raw'> {
  const headers = new FieldMap();
  const names: string[] = [];
  const spans: number[] = [];
  if (eol === last) return { headers, names, spans, raw: buf };
  for (let start = eol + 2; ; ) {
    const stop = lineEnd(buf, start, last);
    if (stop < 0) throw new HttpParseError(400, 'malformed header field');
    // name ":" OWS value OWS; no whitespace before the colon (RFC 9112 §5.1), no obsolete folding.
    let colon = start;
    while (colon < stop && TOKEN[buf[colon] ?? 0]) colon++;
    if (colon === start || buf[colon] !== 0x3a) throw new HttpParseError(400, 'malformed header field');
    let v = colon + 1;
    for (let j = v; j < stop; j++) if (!FIELD_VALUE[buf[j] ?? 0]) throw new HttpParseError(400, 'malformed header field');
    let ve = stop;
    while (v < ve && (buf[v] === SP || buf[v] === HTAB)) v++;
    while (ve > v && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    const name = buf.toString('latin1', start, colon).toLowerCase();
    const value = buf.toString('latin1', v, ve);
    const before = headers[name];
    headers[name] = before === undefined ? value : `${before}, ${value}`;
    names.push(name);
    spans.push(start, stop);
    if (stop === last) break;
    start = stop + 2;
  }
  return { headers, names, spans, raw: buf };
}

/**
 * A head to send on: `first` (the start line and its CRLF), the field lines of `head` but those
 * named in `dropped` or in the head's own Connection field, as they came, then `extra` (field lines
 * ending in CRLF), the empty line, and `tail` (body bytes that go in the same write).
 */
export function encodeHead(first: string, head: Head, dropped: ReadonlySet<string>, extra: string, tail?: Buffer): Buffer {
  const { names, spans, raw } = head;
  const listed = connectionListed(head.headers);
  let size = first.length + extra.length + 2 + (tail?.length ?? 0);
  for (let i = 0; i < names.length; i++) if (kept(names[i], dropped, listed)) size += (spans[2 * i + 1] ?? 0) - (spans[2 * i] ?? 0) + 2;
  const out = Buffer.allocUnsafe(size);
  let at = out.write(first, 0, 'latin1');
  for (let i = 0; i < names.length; i++) {
    if (!kept(names[i], dropped, listed)) continue;
    at += raw.copy(out, at, spans[2 * i], spans[2 * i + 1]);
    out[at++] = CR;
    out[at++] = LF;
  }
  at += out.write(extra, at, 'latin1');
  out[at++] = CR;
  out[at++] = LF;
  if (tail) tail.copy(out, at);
  return out;
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

/** A whole answer of the sidecar's own, in plain text; `extra` holds field lines, each ending in CRLF. */
export function plainAnswer(status: number, text: string, opts: { readonly keepAlive: boolean; readonly extra?: string; readonly head?: boolean }): string {
  const fields = `content-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\n${opts.extra ?? ''}${opts.keepAlive ? '' : 'connection: close\r\n'}`;
  return `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n${fields}\r\n${opts.head ? '' : text}`;
}

/** How a message's body is delimited (RFC 9112 §6.3). */
export type Framing = { readonly kind: 'none' } | { readonly kind: 'length'; readonly bytes: number } | { readonly kind: 'chunked' } | { readonly kind: 'close' };

const NONE: Framing = { kind: 'none' };
const CHUNKED: Framing = { kind: 'chunked' };
const CLOSE: Framing = { kind: 'close' };

export function requestFraming(head: RequestHead): Framing {
  const te = head.headers['transfer-encoding'];
  const cl = head.headers['content-length'];
  if (te !== undefined) {
    // Both at once is how requests are smuggled past one parser into another: refused.
    if (cl !== undefined) throw new HttpParseError(400, 'both Transfer-Encoding and Content-Length');
    if (te.toLowerCase() !== 'chunked') throw new HttpParseError(501, `transfer coding ${JSON.stringify(te.slice(0, 64))} is not served`);
    return CHUNKED;
  }
  if (cl === undefined) return NONE;
  const bytes = contentLength(cl);
  if (bytes === undefined) throw new HttpParseError(400, 'malformed Content-Length');
  return bytes === 0 ? NONE : { kind: 'length', bytes };
}

/** A response's framing; undefined when the replica's head is contradictory (a bad gateway). */
export function responseFraming(head: ResponseHead, method: string): Framing | undefined {
  if (method === 'HEAD' || head.status < 200 || head.status === 204 || head.status === 304) return NONE;
  const te = head.headers['transfer-encoding'];
  if (te !== undefined) {
    if (te.toLowerCase() === 'chunked') return CHUNKED;
    return head.headers['content-length'] === undefined ? CLOSE : undefined;
  }
  const cl = head.headers['content-length'];
  if (cl === undefined) return CLOSE;
  const bytes = contentLength(cl);
  if (bytes === undefined) return undefined;
  return bytes === 0 ? NONE : { kind: 'length', bytes };
}

/** A Content-Length's value; repeated identical values ("5, 5") are one (RFC 9110 §8.6). */
function contentLength(value: string): number | undefined {
  if (value.length <= 15 && DIGITS.test(value)) return Number(value);
  let bytes: number | undefined;
  for (const part of value.split(',')) {
    const v = part.trim();
    if (v.length > 15 || !DIGITS.test(v) || (bytes !== undefined && Number(v) !== bytes)) return undefined;
    bytes = Number(v);
  }
  return bytes;
}

const DIGITS = /^\d+$/;

function kept(name: string | undefined, dropped: ReadonlySet<string>, listed: ReadonlySet<string> | undefined): boolean {
  return name !== undefined && !dropped.has(name) && listed?.has(name) !== true;
}

// Hop-by-hop fields (RFC 9110 §7.6.1) belong to one connection and are never forwarded.
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Fields a Connection header names, to drop as well; undefined when it names none beyond the usual. */
function connectionListed(headers: Readonly<Record<string, string>>): Set<string> | undefined {
  const v = headers['connection'];
  if (v === undefined || USUAL_CONNECTION.test(v)) return undefined;
  let listed: Set<string> | undefined;
  for (const t of v.split(',')) {
    const name = t.trim().toLowerCase();
    if (name && name !== 'close' && name !== 'keep-alive') (listed ??= new Set()).add(name);
  }
  return listed;
}

/** A Connection field of just "keep-alive" or "close", as nearly all are: it names no other field. */
const USUAL_CONNECTION = /^(?:keep-alive|close)$/i;

/** Whether a Connection field lists the token (case-insensitive). */
export function connectionHas(head: Head, token: string): boolean {
  const v = head.headers['connection'];
  if (v === undefined) return false;
  if (v.length === token.length) return v.toLowerCase() === token;
  for (const t of v.split(',')) if (t.trim().toLowerCase() === token) return true;
  return false;
}

const enum Chunk {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  FinalLf,
  Done,
}

/** Digits of a chunk size, and bytes of a chunk line or of the trailers, beyond which the body is refused. */
const MAX_SIZE_DIGITS = 12;
const MAX_LINE_BYTES = 4096;
const MAX_TRAILER_BYTES = MAX_HEAD_BYTES;

/**
 * Follows one message body through its bytes: `take` says where in a chunk the body ends, so what
 * follows it (a pipelined request, say) is kept apart. Throws HttpParseError on a malformed chunk.
 */
export class BodyTracker {
  private remaining: number;
  private state = Chunk.Size;
  private size = 0;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;

  constructor(readonly framing: Framing) {
    this.remaining = framing.kind === 'length' ? framing.bytes : 0;
  }

  get done(): boolean {
    const k = this.framing.kind;
    return k === 'none' || (k === 'length' && this.remaining === 0) || (k === 'chunked' && this.state === Chunk.Done);
  }

  /** How many bytes of buf, from start, belong to the body (all of them when it goes on). */
  take(buf: Buffer, start: number): number {
    switch (this.framing.kind) {
      case 'none':
        return 0;
      case 'close':
        return buf.length - start;
      case 'length': {
        const n = Math.min(this.remaining, buf.length - start);
        this.remaining -= n;
        return n;
      }
      case 'chunked':
        return this.chunked(buf, start) - start;
    }
  }

  private chunked(buf: Buffer, start: number): number {
    let i = start;
    while (i < buf.length && this.state !== Chunk.Done) {
      if (this.state === Chunk.Data) {
        const n = Math.min(this.size, buf.length - i);
        this.size -= n;
        i += n;
        if (this.size === 0) this.state = Chunk.DataCr;
        continue;
      }
      const b = buf[i++] ?? 0;
      switch (this.state) {
        case Chunk.Size: {
          const d = hexDigit(b);
          if (d >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw new HttpParseError(400, 'chunk size too large');
            this.size = this.size * 16 + d;
          } else if (this.digits > 0 && (b === 0x3b || b === 0x20 || b === 0x09)) {
            this.state = Chunk.Ext;
            this.lineBytes = 0;
          } else if (this.digits > 0 && b === CR) this.state = Chunk.SizeLf;
          else throw new HttpParseError(400, 'malformed chunk size');
          break;
        }
        case Chunk.Ext:
          if (b === CR) this.state = Chunk.SizeLf;
          else if (b === LF || ++this.lineBytes > MAX_LINE_BYTES) throw new HttpParseError(400, 'malformed chunk extension');
          break;
        case Chunk.SizeLf:
          if (b !== LF) throw new HttpParseError(400, 'malformed chunk line');
          this.digits = 0;
          this.state = this.size === 0 ? Chunk.TrailerStart : Chunk.Data;
          break;
        case Chunk.DataCr:
          if (b !== CR) throw new HttpParseError(400, 'chunk longer than its size');
          this.state = Chunk.DataLf;
          break;
        case Chunk.DataLf:
          if (b !== LF) throw new HttpParseError(400, 'malformed chunk end');
          this.state = Chunk.Size;
          break;
        case Chunk.TrailerStart:
          this.state = b === CR ? Chunk.FinalLf : Chunk.Trailer;
          if (b === LF) throw new HttpParseError(400, 'malformed trailer');
          break;
        case Chunk.Trailer:
          if (b === CR) this.state = Chunk.TrailerLf;
          else if (b === LF) throw new HttpParseError(400, 'malformed trailer');
          break;
        case Chunk.TrailerLf:
          if (b !== LF) throw new HttpParseError(400, 'malformed trailer');
          this.state = Chunk.TrailerStart;
          break;
        case Chunk.FinalLf:
          if (b !== LF) throw new HttpParseError(400, 'malformed end of chunked body');
          this.state = Chunk.Done;
          break;
      }
      if (this.state === Chunk.Trailer || this.state === Chunk.TrailerLf) {
        if (++this.trailerBytes > MAX_TRAILER_BYTES) throw new HttpParseError(431, 'trailers too large');
      }
    }
    return i;
  }
}

function hexDigit(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

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
  /** Lower-case name → value; a repeated field's values joined with ", ". */
  readonly headers: Record<string, string>;
  /** The field lines as received, and their lower-case names, in order: forwarded as they are. */
  readonly lines: readonly string[];
  readonly names: readonly string[];
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

// The field lines of a head, checked in one pass: a token name, a colon with nothing before it
// (RFC 9112 §5.1), and a value of visible ASCII, obs-text, space and tab: never a bare CR, LF or
// NUL, and no obsolete line folding.
const FIELD_LINES = /^(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*(?:\r\n|$))*$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/1\.([01])$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

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

export function parseRequestHead(buf: Buffer, end: number): RequestHead {
  const text = buf.toString('latin1', 0, end - 4);
  const eol = text.indexOf('\r\n');
  const first = eol < 0 ? text : text.slice(0, eol);
  const m = REQUEST_LINE.exec(first);
  if (!m) {
    if (/^\S+ \S+ HTTP\/\d/.test(first)) throw new HttpParseError(505, 'only HTTP/1.0 and HTTP/1.1 are served');
    throw new HttpParseError(400, 'malformed request line');
  }
  return { method: m[1] ?? '', target: m[2] ?? '', minor: m[3] === '0' ? 0 : 1, size: end, ...fields(text, eol) };
}

/** A response head from a replica; an error here is the replica's fault (502 to the caller). */
export function parseResponseHead(buf: Buffer, end: number): ResponseHead {
  const text = buf.toString('latin1', 0, end - 4);
  const eol = text.indexOf('\r\n');
  const m = STATUS_LINE.exec(eol < 0 ? text : text.slice(0, eol));
  if (!m) throw new HttpParseError(400, 'malformed status line');
  return { status: Number(m[2]), reason: m[3] ?? '', minor: m[1] === '0' ? 0 : 1, size: end, ...fields(text, eol) };
}

function fields(text: string, eol: number): Pick<Head, 'headers' | 'lines' | 'names'> {
  const headers: Record<string, string> = {};
  const lines: string[] = [];
  const names: string[] = [];
  if (eol < 0) return { headers, lines, names };
  const block = text.slice(eol + 2);
  if (!FIELD_LINES.test(block)) throw new HttpParseError(400, 'malformed header field');
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    const lower = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).replace(OWS, '');
    const before = headers[lower];
    headers[lower] = before === undefined ? value : `${before}, ${value}`;
    lines.push(line);
    names.push(lower);
  }
  return { headers, lines, names };
}

/** Optional whitespace around a field value (spaces and tabs only: obs-text is part of the value). */
const OWS = /^[ \t]+|[ \t]+$/g;

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
  let bytes: number | undefined;
  for (const part of value.split(',')) {
    const v = part.trim();
    if (!/^\d{1,15}$/.test(v) || (bytes !== undefined && Number(v) !== bytes)) return undefined;
    bytes = Number(v);
  }
  return bytes;
}

// Hop-by-hop fields (RFC 9110 §7.6.1) belong to one connection and are never forwarded.
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Fields a Connection header names, to drop as well; undefined when it names none beyond the usual. */
export function connectionListed(headers: Readonly<Record<string, string>>): Set<string> | undefined {
  const v = headers['connection'];
  if (v === undefined) return undefined;
  const listed = new Set<string>();
  for (const t of v.split(',')) {
    const name = t.trim().toLowerCase();
    if (name && name !== 'close' && name !== 'keep-alive') listed.add(name);
  }
  return listed.size > 0 ? listed : undefined;
}

/** Whether a Connection field lists the token (case-insensitive). */
export function connectionHas(head: Head, token: string): boolean {
  const v = head.headers['connection'];
  if (v === undefined) return false;
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

const CR = 0x0d;
const LF = 0x0a;
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

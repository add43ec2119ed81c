// Properties of the sidecar's HTTP/1.1 framing over generated input: a well-formed head is read
// back exactly and sent on byte for byte; any bytes at all are either read into a head whose lines
// tile those bytes (nothing skipped, nothing read twice) or refused with an HttpParseError, never
// another exception; a chunked body ends where it ends however it is cut.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BodyTracker, encodeHead, headEnd, HttpParseError, parseRequestHead, parseResponseHead } from '../../bridge/sidecar/http1.ts';

const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);
const visible = fc
  .integer({ min: 0x21, max: 0xff })
  .filter((b) => b !== 0x7f)
  .map((b) => String.fromCharCode(b));
/** A field value as the parser returns it: visible bytes and obs-text, inner spaces and tabs only. */
const value = fc.array(fc.oneof(visible, fc.constantFrom(' ', '\t')), { maxLength: 20 }).map((cs) => cs.join('').replace(/^[ \t]+|[ \t]+$/g, ''));
const ows = fc.constantFrom('', ' ', '  ', '\t');
// No Connection field: it would name fields for encodeHead to drop.
const field = fc.record({ name: token.filter((n) => n.toLowerCase() !== 'connection'), value, pre: ows, post: ows });
const fields = fc.array(field, { maxLength: 8 });
const fieldLines = (fs: readonly { name: string; value: string; pre: string; post: string }[]): string => fs.map((f) => `${f.name}:${f.pre}${f.value}${f.post}\r\n`).join('');

/** Lower-case name → values joined with ", ", in the order the fields came (a Map: "__proto__" is a name too). */
function expectedMap(fs: readonly { name: string; value: string }[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fs) {
    const n = f.name.toLowerCase();
    const before = out.get(n);
    out.set(n, before === undefined ? f.value : `${before}, ${f.value}`);
  }
  return out;
}

const wellFormedRequest = fc.record({
  method: token,
  target: fc.stringMatching(/^\/[!-~]{0,30}$/),
  minor: fc.constantFrom(0, 1),
  fields,
});
const requestText = (r: { method: string; target: string; minor: number; fields: readonly { name: string; value: string; pre: string; post: string }[] }): string =>
  `${r.method} ${r.target} HTTP/1.${r.minor}\r\n${fieldLines(r.fields)}\r\n`;

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Bytes a mutation inserts: mostly the ones a parser must be careful with. */
const nasty = fc.oneof(fc.constantFrom(0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3a, 0x7f, 0x2c), fc.integer({ min: 0, max: 255 }));
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: nasty }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), byte: fc.constant(0) }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), byte: nasty }),
);

function mutate(text: string, ms: readonly { kind: 'insert' | 'delete' | 'replace'; at: number; byte: number }[]): Buffer {
  const bytes = [...latin1(text)];
  for (const m of ms) {
    const at = m.at % (bytes.length + 1);
    if (m.kind === 'insert') bytes.splice(at, 0, m.byte);
    else if (at < bytes.length) bytes.splice(at, 1, ...(m.kind === 'replace' ? [m.byte] : []));
  }
  return Buffer.from(bytes);
}

/** The head's end, with an empty line added where the mutations left none. */
function ended(buf: Buffer): { buf: Buffer; end: number } {
  const end = headEnd(buf);
  if (end > 0) return { buf, end };
  const whole = Buffer.concat([buf, latin1('\r\n\r\n')]);
  return { buf: whole, end: headEnd(whole) };
}

const TOKEN_TEXT = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** A parsed head's lines must tile its bytes: start line, CRLF, each field line and CRLF, then CRLF. */
function assertTiles(h: { raw: Buffer; size: number; names: readonly string[]; spans: readonly number[]; headers: Readonly<Record<string, string>> }): void {
  const text = h.raw.toString('latin1', 0, h.size);
  const firstEnd = h.names.length > 0 ? (h.spans[0] as number) - 2 : h.size - 4;
  assert.doesNotMatch(text.slice(0, firstEnd), /[\r\n]/, 'the start line holds no CR or LF');
  assert.equal(text.slice(firstEnd, firstEnd + 2), '\r\n');
  for (let i = 0; i < h.names.length; i++) {
    const [start, stop] = [h.spans[2 * i] as number, h.spans[2 * i + 1] as number];
    const line = text.slice(start, stop);
    assert.doesNotMatch(line, /[\r\n\0]/, 'a field line holds no CR, LF or NUL');
    const name = line.slice(0, line.indexOf(':'));
    assert.equal(name.toLowerCase(), h.names[i]);
    assert.match(h.names[i] as string, TOKEN_TEXT);
    const next = i + 1 < h.names.length ? (h.spans[2 * i + 2] as number) : h.size - 2;
    assert.equal(text.slice(stop, next), '\r\n', 'nothing between one line and the next but CRLF');
  }
  assert.equal(text.slice(h.size - 4), '\r\n\r\n');
  for (const v of Object.values(h.headers)) assert.doesNotMatch(v, /[\r\n\0]/);
}

/** Parses, and says whether the bytes were refused; any error but HttpParseError fails the property. */
function parsedOrRefused<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (e instanceof HttpParseError) return undefined;
    throw e;
  }
}

const chunkedBody = fc.record({
  chunks: fc.array(fc.record({ data: fc.uint8Array({ minLength: 1, maxLength: 40 }), ext: fc.constantFrom('', ';a=b', ';x', ' ;y') }), { maxLength: 5 }),
  lastExt: fc.constantFrom('', ';z'),
  trailers: fc.array(fc.record({ name: token, value }), { maxLength: 2 }),
  upper: fc.boolean(),
});

function encodeChunked(b: { chunks: readonly { data: Uint8Array; ext: string }[]; lastExt: string; trailers: readonly { name: string; value: string }[]; upper: boolean }): Buffer {
  const parts: Buffer[] = [];
  for (const c of b.chunks) {
    const size = c.data.length.toString(16);
    parts.push(latin1(`${b.upper ? size.toUpperCase() : size}${c.ext}\r\n`), Buffer.from(c.data), latin1('\r\n'));
  }
  parts.push(latin1(`0${b.lastExt}\r\n${b.trailers.map((t) => `${t.name}: ${t.value}\r\n`).join('')}\r\n`));
  return Buffer.concat(parts);
}

/** A chunked body's end as the tracker finds it, fed `bytes` cut at `cutsAt`: where it ends, 'more', or 'error'. */
function verdict(bytes: Buffer, cutsAt: readonly number[]): number | 'more' | 'error' {
  const cuts = [...new Set(cutsAt.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
  const t = new BodyTracker({ kind: 'chunked' });
  let took = 0;
  let at = 0;
  try {
    for (const end of [...cuts, bytes.length]) {
      took += t.take(bytes.subarray(at, end), 0);
      at = end;
      if (t.done) return took;
    }
  } catch (e) {
    if (e instanceof HttpParseError) return 'error';
    throw e;
  }
  return 'more';
}

/**
 * RFC 9112 §7.1 read plainly, as a second opinion: chunk-size (hex, at most 12 digits), an extension
 * from ";" or whitespace to the CR (no LF in it), CRLF, the data, CRLF; after the last chunk, trailer
 * lines and an empty line. (The tracker's limits on extension and trailer length are not reached by
 * these inputs.)
 */
function referenceChunked(b: Buffer): number | 'more' | 'error' {
  const CR = 0x0d;
  const LF = 0x0a;
  const hex = (x: number | undefined): number => {
    const d = x === undefined ? NaN : parseInt(String.fromCharCode(x), 16);
    return Number.isNaN(d) ? -1 : d;
  };
  let i = 0;
  const crlf = (): 'more' | 'error' | undefined => {
    if (i >= b.length) return 'more';
    if (b[i] !== CR) return 'error';
    if (++i >= b.length) return 'more';
    if (b[i] !== LF) return 'error';
    i++;
    return undefined;
  };
  for (;;) {
    let digits = 0;
    let size = 0;
    for (; i < b.length && hex(b[i]) >= 0; i++, digits++) {
      if (digits === 12) return 'error';
      size = size * 16 + hex(b[i]);
    }
    if (i >= b.length) return 'more';
    if (digits === 0) return 'error';
    if (b[i] === 0x3b || b[i] === 0x20 || b[i] === 0x09) {
      for (i++; i < b.length && b[i] !== CR; i++) if (b[i] === LF) return 'error';
    }
    const end = crlf();
    if (end) return end;
    if (size === 0) break;
    if (b.length - i < size) return 'more';
    i += size;
    const after = crlf();
    if (after) return after;
  }
  for (;;) {
    if (i >= b.length) return 'more';
    if (b[i] === LF) return 'error';
    if (b[i] === CR) {
      const end = crlf();
      return end ?? i;
    }
    for (; i < b.length && b[i] !== CR; i++) if (b[i] === LF) return 'error';
    const end = crlf();
    if (end) return end;
  }
}

describe('sidecar HTTP/1.1 framing, properties', () => {
  it('reads a well-formed request head back exactly and sends it on byte for byte', () => {
    fc.assert(
      fc.property(wellFormedRequest, (r) => {
        const text = requestText(r);
        const buf = latin1(text);
        const h = parseRequestHead(buf, headEnd(buf));
        assert.deepEqual([h.method, h.target, h.minor, h.size], [r.method, r.target, r.minor, buf.length]);
        assert.deepEqual(h.names, r.fields.map((f) => f.name.toLowerCase()));
        assert.deepEqual(new Map(Object.entries(h.headers)), expectedMap(r.fields));
        const first = `${r.method} ${r.target} HTTP/1.${r.minor}\r\n`;
        assert.equal(encodeHead(first, h, new Set(), '').toString('latin1'), text);
      }),
      { numRuns: 500 },
    );
  });

  it('reads a well-formed response head back exactly', () => {
    const response = fc.record({ minor: fc.constantFrom(0, 1), status: fc.integer({ min: 100, max: 999 }), reason: fc.option(value, { nil: undefined }), fields });
    fc.assert(
      fc.property(response, (r) => {
        const buf = latin1(`HTTP/1.${r.minor} ${r.status}${r.reason === undefined ? '' : ` ${r.reason}`}\r\n${fieldLines(r.fields)}\r\n`);
        const h = parseResponseHead(buf, headEnd(buf));
        assert.deepEqual([h.minor, h.status, h.reason, h.size], [r.minor, r.status, r.reason ?? '', buf.length]);
        assert.deepEqual(new Map(Object.entries(h.headers)), expectedMap(r.fields));
      }),
      { numRuns: 500 },
    );
  });

  it('reads mangled request bytes into a head that tiles them, or refuses them with a status', () => {
    fc.assert(
      fc.property(wellFormedRequest, fc.array(mutation, { minLength: 1, maxLength: 4 }), (r, ms) => {
        const { buf, end } = ended(mutate(requestText(r), ms));
        const h = parsedOrRefused(() => parseRequestHead(buf, end));
        if (!h) return;
        assertTiles(h);
        assert.match(h.method, /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
        assert.match(h.target, /^[\x21-\x7e]+$/);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads mangled response bytes into a head that tiles them, or refuses them', () => {
    const text = (fs: readonly { name: string; value: string; pre: string; post: string }[]) => `HTTP/1.1 200 OK\r\n${fieldLines(fs)}\r\n`;
    fc.assert(
      fc.property(fields, fc.array(mutation, { minLength: 1, maxLength: 4 }), (fs, ms) => {
        const { buf, end } = ended(mutate(text(fs), ms));
        const h = parsedOrRefused(() => parseResponseHead(buf, end));
        if (!h) return;
        assertTiles(h);
        assert.ok(h.status >= 100 && h.status <= 999);
        assert.doesNotMatch(h.reason, /[\r\n\0]/);
      }),
      { numRuns: 3000 },
    );
  });

  it('finds the end of any chunked body, with extensions and trailers, however the bytes are cut', () => {
    fc.assert(
      fc.property(chunkedBody, fc.array(fc.nat(), { maxLength: 6 }), (body, cutsAt) => {
        const whole = encodeChunked(body);
        assert.equal(verdict(Buffer.concat([whole, latin1('GET /next HTTP/1.1\r\n\r\n')]), cutsAt), whole.length);
      }),
      { numRuns: 500 },
    );
  });

  it('gives mangled chunked bodies the verdict of a plain reading of RFC 9112 §7.1, however the bytes are cut', () => {
    const chunkNasty = fc.oneof(nasty, fc.constantFrom(0x30, 0x31, 0x61, 0x46, 0x3b, 0x3d));
    const chunkMutation = fc.record({ kind: fc.constantFrom('insert' as const, 'delete' as const, 'replace' as const), at: fc.nat(), byte: chunkNasty });
    fc.assert(
      fc.property(chunkedBody, fc.array(chunkMutation, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 6 }), (body, ms, cutsAt) => {
        const bytes = mutate(encodeChunked(body).toString('latin1'), ms);
        const expected = referenceChunked(bytes);
        assert.equal(verdict(bytes, []), expected, 'in one piece');
        assert.equal(verdict(bytes, cutsAt), expected, 'cut');
      }),
      { numRuns: 3000 },
    );
  });
});

// The sidecar's HTTP/1.1 framing: heads parsed into typed parts or refused with the status that
// says why, and bodies followed to their exact end whatever way the bytes are cut.
import assert from 'node:assert/strict';
import { BodyTracker, encodeHead, headEnd, HttpParseError, MAX_HEAD_BYTES, parseRequestHead, parseResponseHead, requestFraming, responseFraming } from '../../bridge/sidecar/http1.ts';

const request = (text: string) => {
  const buf = Buffer.from(text, 'latin1');
  return parseRequestHead(buf, headEnd(buf));
};
const refused = (text: string, status: number) =>
  assert.throws(
    () => requestFraming(request(text)),
    (e: unknown) => e instanceof HttpParseError && e.status === status,
    JSON.stringify(text),
  );

/** Feeds the tracker `bytes` cut at the given points; returns how many it took before it was done. */
function consumed(framing: ReturnType<typeof requestFraming>, bytes: Buffer, cuts: readonly number[]): number {
  const t = new BodyTracker(framing);
  let at = 0;
  let took = 0;
  for (const end of [...cuts, bytes.length]) {
    const piece = bytes.subarray(at, end);
    at = end;
    const n = t.take(piece, 0);
    took += n;
    if (t.done) return took;
    assert.equal(n, piece.length, 'an unfinished body takes all it is given');
  }
  return -1;
}

describe('sidecar HTTP/1.1 framing', () => {
  it('parses a request head: method, target, version, fields in order, repeated fields joined', () => {
    const h = request('GET /a?b=1 HTTP/1.1\r\nHost: orders:8080\r\nX-Tag:  one \r\nx-tag: two\r\n\r\n');
    assert.equal(h.method, 'GET');
    assert.equal(h.target, '/a?b=1');
    assert.equal(h.minor, 1);
    assert.deepEqual(h.names, ['host', 'x-tag', 'x-tag']);
    const lines = h.names.map((_, i) => h.raw.toString('latin1', h.spans[2 * i], h.spans[2 * i + 1]));
    assert.deepEqual(lines, ['Host: orders:8080', 'X-Tag:  one ', 'x-tag: two']);
    assert.equal(h.headers['x-tag'], 'one, two');
    assert.equal(h.headers['host'], 'orders:8080');
    assert.equal(h.size, Buffer.byteLength('GET /a?b=1 HTTP/1.1\r\nHost: orders:8080\r\nX-Tag:  one \r\nx-tag: two\r\n\r\n'));
    assert.deepEqual(requestFraming(h), { kind: 'none' });
  });

  it('keeps a field named like an object property as a field, and reads a status line by its parts', () => {
    const h = request('GET / HTTP/1.1\r\nconstructor: a\r\n__proto__: b\r\nToString: c\r\n\r\n');
    assert.equal(h.headers['constructor'], 'a');
    assert.equal(h.headers['__proto__'], 'b');
    assert.equal(h.headers['tostring'], 'c');
    assert.equal(h.headers['hasownproperty'], undefined);
    const buf = Buffer.from('HTTP/1.0 503 Service Unavailable\r\nRetry-After: 1\r\n\r\n', 'latin1');
    const r = parseResponseHead(buf, headEnd(buf));
    assert.deepEqual([r.minor, r.status, r.reason, r.headers['retry-after']], [0, 503, 'Service Unavailable', '1']);
    const bareCr = Buffer.from('HTTP/1.1 200 OK\rXContent-Length: 5\r\n\r\n', 'latin1');
    assert.throws(() => parseResponseHead(bareCr, headEnd(bareCr)), HttpParseError);
  });

  it('sends a head on with the fields it keeps, as they came, what it adds, and body bytes in the same buffer', () => {
    const h = request('POST /x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\nX-Kept:  v \r\nTE: trailers\r\n\r\n');
    const out = encodeHead('POST /x HTTP/1.1\r\n', h, new Set(['connection', 'te']), 'x-added: 1\r\n', Buffer.from('body'));
    assert.equal(out.toString('latin1'), 'POST /x HTTP/1.1\r\nHost: a\r\nX-Kept:  v \r\nx-added: 1\r\n\r\nbody');
  });

  it('refuses malformed heads with 400, other versions with 505, other codings with 501', () => {
    refused('GET / HTTP/1.1\r\nA: b\rC: d\r\n\r\n', 400); // a bare CR inside the head
    refused('GET / HTTP/1.1\rXHost: a\r\n\r\n', 400); // a bare CR ending the request line
    refused('GET / HTTP/1.1x\r\n\r\n', 400);
    refused('GET / HTTP/1.2\r\n\r\n', 505);
    refused('GET /\x01 HTTP/1.1\r\n\r\n', 400);
    refused('GET /caf\xe9 HTTP/1.1\r\n\r\n', 400); // a target is ASCII
    refused('G(T / HTTP/1.1\r\n\r\n', 400);
    refused('GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400); // space before the colon
    refused('GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n', 400); // obsolete line folding
    refused('GET / HTTP/1.1\r\nBad\x00: x\r\n\r\n', 400);
    refused('GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n', 400); // a bare LF inside the head
    refused('GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n', 400);
    refused('GET  / HTTP/1.1\r\n\r\n', 400);
    refused('garbage\r\n\r\n', 400);
    refused('PRI * HTTP/2.0\r\n\r\n', 505);
    refused('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n', 400); // smuggling
    refused('POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 400);
    refused('POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 400);
    refused('POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501);
  });

  it('finds a head\'s end, waits for more, and refuses a head past 64 KiB whether it ended or not', () => {
    assert.equal(headEnd(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\nrest')), 27);
    assert.equal(headEnd(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n')), -1);
    const long = `GET / HTTP/1.1\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`;
    const too = (text: string) => assert.throws(() => headEnd(Buffer.from(text)), (e: unknown) => e instanceof HttpParseError && e.status === 431);
    too(long);
    too(`${long}\r\n\r\n`);
  });

  it('frames request bodies by length or chunks; repeated identical lengths are one', () => {
    assert.deepEqual(requestFraming(request('POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n')), { kind: 'length', bytes: 5 });
    assert.deepEqual(requestFraming(request('POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n')), { kind: 'chunked' });
    assert.deepEqual(requestFraming(request('POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n')), { kind: 'none' });
  });

  it('frames responses: none for HEAD, 1xx, 204 and 304; until close without a length; a contradiction is refused', () => {
    const response = (text: string) => {
      const buf = Buffer.from(text, 'latin1');
      return parseResponseHead(buf, headEnd(buf));
    };
    const ok = response('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n');
    assert.equal(ok.status, 200);
    assert.equal(ok.reason, 'OK');
    assert.deepEqual(responseFraming(ok, 'GET'), { kind: 'length', bytes: 3 });
    assert.deepEqual(responseFraming(ok, 'HEAD'), { kind: 'none' });
    assert.deepEqual(responseFraming(response('HTTP/1.1 204 No Content\r\n\r\n'), 'GET'), { kind: 'none' });
    assert.deepEqual(responseFraming(response('HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n'), 'GET'), { kind: 'none' });
    assert.deepEqual(responseFraming(response('HTTP/1.0 200 OK\r\n\r\n'), 'GET'), { kind: 'close' });
    assert.deepEqual(responseFraming(response('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), 'GET'), { kind: 'chunked' });
    assert.equal(responseFraming(response('HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n'), 'GET'), undefined);
    assert.deepEqual(response('HTTP/1.1 200\r\n\r\n').reason, '');
    assert.throws(() => response('HTTP/1.1 2000 OK\r\n\r\n'), HttpParseError);
    assert.throws(() => response('HTTP/1.1 099 Low\r\n\r\n'), HttpParseError);
    assert.throws(() => response('HTTP/1.1 200 O\x00K\r\n\r\n'), HttpParseError);
    assert.throws(() => response('HTTP/2 200 OK\r\n\r\n'), HttpParseError);
  });

  it('finds the end of a chunked body cut at every byte, with extensions and trailers, and not a byte further', () => {
    const body = Buffer.from('5;name=v\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer-A: 1\r\n\r\n', 'latin1');
    const after = Buffer.from('GET /next HTTP/1.1\r\n\r\n');
    const bytes = Buffer.concat([body, after]);
    for (let cut = 0; cut <= bytes.length; cut++) assert.equal(consumed({ kind: 'chunked' }, bytes, [cut]), body.length, `cut at ${cut}`);
    // One byte at a time.
    assert.equal(consumed({ kind: 'chunked' }, bytes, Array.from({ length: bytes.length }, (_, i) => i)), body.length);
  });

  it('finds the end of a length-framed body, leaving what follows', () => {
    const bytes = Buffer.from('0123456789GET / HTTP/1.1\r\n\r\n');
    for (let cut = 0; cut <= bytes.length; cut++) assert.equal(consumed({ kind: 'length', bytes: 10 }, bytes, [cut]), 10);
  });

  it('refuses malformed chunks: a bad size, a chunk longer than its size, an oversized size', () => {
    const bad = (text: string) => assert.throws(() => new BodyTracker({ kind: 'chunked' }).take(Buffer.from(text, 'latin1'), 0), HttpParseError, JSON.stringify(text));
    bad('x\r\n');
    bad(';ext\r\n');
    bad('3\r\nabcd\r\n');
    bad('3\nabc\r\n');
    bad('1000000000000\r\n');
    bad('0\r\n\n');
  });
});

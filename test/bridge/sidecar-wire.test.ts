// The built-in sidecar's data path on the wire: bytes in from a raw socket, real replicas behind
// it (node:http servers, and a raw one for answers node:http would never send). Bodies of every
// framing pass intact, pipelined requests keep their order, bad input gets its status and the
// sidecar keeps serving, and a caller that leaves frees its slot and the replica's connection.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { parseSidecarConfig } from '../../bridge/sidecar/config.ts';
import { BuiltinSidecar } from '../../bridge/sidecar/sidecar.ts';
import { waitFor } from '../support/wait.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A replica that says what it got; /chunked/N answers N bytes in chunks, /hold keeps the answer. */
function echoReplica() {
  const held: ServerResponse[] = [];
  let connections = 0;
  let closed = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const url = req.url ?? '/';
      if (url === '/hold') return void held.push(res);
      if (url.startsWith('/chunked/')) {
        const bytes = pattern(Number(url.slice(9)));
        for (let at = 0; at < bytes.length; at += 16_384) res.write(bytes.subarray(at, at + 16_384));
        return void res.end();
      }
      if (url === '/empty') return void res.writeHead(204).end();
      res.setHeader('connection-listed', 'drop me');
      res.setHeader('connection', 'keep-alive, connection-listed');
      const said = JSON.stringify({ method: req.method, url, version: req.httpVersion, headers: req.headers, bodyLength: body.length, bodySha: sha(body) });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(said), 'server-timing': 'app;dur=1.5' });
      res.end(said);
    });
  });
  server.on('connection', (s: Socket) => {
    connections++;
    s.on('close', () => closed++);
  });
  return { server, held, counts: () => ({ connections, closed }) };
}

/** The same bytes for a given length, to check what arrived. */
function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

/** A replica speaking raw bytes: what it answers is given per test. */
function rawReplica(answer: (socket: Socket) => void): NetServer {
  return createNetServer((socket) => {
    socket.once('data', () => answer(socket));
    socket.on('error', () => undefined);
  });
}

async function listening(server: Server | NetServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Writes the bytes (each piece once the one before is flushed) and collects everything until the sidecar closes. */
async function wire(port: number, ...pieces: (string | Buffer)[]): Promise<string> {
  const s = connect(port, '127.0.0.1');
  await once(s, 'connect');
  const got: Buffer[] = [];
  s.on('data', (c: Buffer) => got.push(c));
  const ended = once(s, 'close');
  for (const p of pieces) await new Promise<void>((resolve, reject) => s.write(p, (err) => (err ? reject(err) : resolve())));
  await ended;
  return Buffer.concat(got).toString('latin1');
}

function get(port: number, path: string, opts: { agent?: Agent; method?: string; host?: string } = {}): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: opts.host ?? 'svc' }, ...(opts.agent ? { agent: opts.agent } : {}) }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), reused: req.reusedSocket }));
    });
    req.on('error', reject).end();
  });
}

describe('built-in sidecar: the data path on the wire', () => {
  const echo = echoReplica();
  let rawAnswer: (socket: Socket) => void = (s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  const raw = rawReplica((s) => rawAnswer(s));
  let sidecar: BuiltinSidecar;
  let port = 0;

  before(async () => {
    const [echoPort, rawPort] = [await listening(echo.server), await listening(raw)];
    sidecar = new BuiltinSidecar({
      config: parseSidecarConfig({
        id: 'wire',
        listen: { port: 0 },
        admin: { port: 0 },
        services: {
          svc: { replicas: [{ id: 'echo', host: '127.0.0.1', port: echoPort }] },
          raw: { replicas: [{ id: 'raw', host: '127.0.0.1', port: rawPort }] },
        },
        scheduling: { classes: [{ name: 'interactive' }, { name: 'batch' }], concurrencyPerReplica: 8 },
      }),
    });
    port = (await sidecar.start()).proxyPort;
  });

  after(async () => {
    await sidecar.stop();
    echo.server.closeAllConnections();
    await new Promise((r) => echo.server.close(r));
    await new Promise((r) => raw.close(r));
  });

  it('passes a chunked upload written in pieces, chunk extensions and all, and says which replica answered', async () => {
    const body = pattern(70_000);
    const chunks = [body.subarray(0, 1), body.subarray(1, 40_000), body.subarray(40_000)];
    const text = await wire(
      port,
      'POST /upload HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
      ...chunks.flatMap((c, i) => [`${c.length.toString(16)}${i === 1 ? ';ext=1' : ''}\r\n`, c, '\r\n']),
      '0\r\n\r\n',
    );
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nx-meshflow-replica: echo\r\n/);
    assert.match(text, /\r\nconnection: close\r\n/);
    const seen = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { bodyLength: number; bodySha: string; headers: Record<string, string> };
    assert.equal(seen.bodyLength, body.length);
    assert.equal(seen.bodySha, sha(body));
    assert.equal(seen.headers['transfer-encoding'], 'chunked');
    assert.match(seen.headers['traceparent'] ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(seen.headers['x-meshflow-priority'], 'default');
  });

  it('drops hop-by-hop fields and those Connection names, both ways', async () => {
    const text = await wire(port, 'GET /h HTTP/1.1\r\nHost: svc\r\nKeep-Alive: timeout=5\r\nX-Private: secret\r\nConnection: close, X-Private\r\nX-Kept: yes\r\n\r\n');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    assert.doesNotMatch(head, /connection-listed/i);
    assert.match(head, /^server-timing: app;dur=1.5$/m);
    const seen = JSON.parse(text.slice(head.length + 4)) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-private'], undefined);
    assert.equal(seen.headers['keep-alive'], undefined);
    assert.equal(seen.headers['x-kept'], 'yes');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('answers pipelined requests in order, with a body between them', async () => {
    const text = await wire(
      port,
      'POST /one HTTP/1.1\r\nHost: svc\r\nContent-Length: 5\r\n\r\nhelloGET /two HTTP/1.1\r\nHost: svc\r\n\r\n\r\nGET /three HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n',
    );
    const urls = [...text.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(urls, ['/one', '/two', '/three']);
    // The caller is told how long an idle connection is kept; the replica's own Keep-Alive is not passed on.
    assert.equal(text.match(/\r\nkeep-alive: timeout=5\r\n/g)?.length, 2);
    assert.doesNotMatch(text, /timeout=60|Keep-Alive: timeout/);
    assert.match(text, /"url":"\/one","version":"1\.1","headers":\{[^}]*\},"bodyLength":5/);
  });

  it('passes a large chunked answer intact, and keeps connections for HEAD and 204 answers', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = await get(port, '/chunked/300000', { agent });
      assert.equal(big.status, 200);
      assert.equal(big.headers['transfer-encoding'], 'chunked');
      assert.equal(sha(big.body), sha(pattern(300_000)));
      const head = await get(port, '/x', { agent, method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      assert.ok(head.reused, 'the connection carried on after a chunked answer');
      const empty = await get(port, '/empty', { agent });
      assert.equal(empty.status, 204);
      const after = await get(port, '/x', { agent });
      assert.equal(after.status, 200);
      assert.ok(after.reused, 'the connection carried on after HEAD and 204');
    } finally {
      agent.destroy();
    }
  });

  it('sends HTTP/1.0 on as 1.0 and closes the caller\'s connection after the answer', async () => {
    const text = await wire(port, 'GET /old HTTP/1.0\r\nHost: svc\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nconnection: close\r\n/);
    assert.match(text, /"version":"1\.0"/);
  });

  it('passes an interim 100 Continue to a caller that asked for it', async () => {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    s.write('POST /ask HTTP/1.1\r\nHost: svc\r\nExpect: 100-continue\r\nContent-Length: 4\r\nConnection: close\r\n\r\n');
    await waitFor('100 Continue', () => text.startsWith('HTTP/1.1 100 Continue\r\n\r\n'));
    s.write('data');
    await once(s, 'close');
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /"bodyLength":4/);
  });

  it('passes an answer delimited by the replica closing, and then closes the caller', async () => {
    rawAnswer = (s) => s.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end');
    const text = await wire(port, 'GET / HTTP/1.1\r\nHost: raw\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nconnection: close\r\n/);
    assert.ok(text.endsWith('\r\n\r\nuntil the end'));
  });

  it('refuses bad requests with their status and keeps serving', async () => {
    const cases: [string, RegExp][] = [
      ['GET / HTTP/1.1\r\nHost : svc\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', /^HTTP\/1\.1 400 /],
      [`GET / HTTP/1.1\r\nHost: svc\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
      ['GET / HTTP/2.0\r\nHost: svc\r\n\r\n', /^HTTP\/1\.1 505 /],
      ['CONNECT svc:443 HTTP/1.1\r\nHost: svc\r\n\r\n', /^HTTP\/1\.1 405 /],
      ['GET / HTTP/1.1\r\nHost: nowhere\r\n\r\n', /^HTTP\/1\.1 404 /],
      ['GET ?a=1 HTTP/1.1\r\nHost: svc\r\n\r\n', /^HTTP\/1\.1 400 [^]*neither a path/],
      ['GET * HTTP/1.1\r\nHost: svc\r\n\r\n', /^HTTP\/1\.1 400 [^]*neither a path/],
      ['GET /caf\xe9 HTTP/1.1\r\nHost: svc\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /^HTTP\/1\.1 400 /],
    ];
    for (const [bytes, status] of cases) {
      const s = connect(port, '127.0.0.1');
      await once(s, 'connect');
      let text = '';
      s.on('data', (c: Buffer) => (text += c.toString('latin1')));
      s.on('error', () => undefined);
      const closed = once(s, 'close');
      s.write(bytes);
      // The refusal is answered and the connection closed; keep-alive only for a whole request the sidecar can't route (404, or 400 for its target).
      await waitFor(`an answer to ${JSON.stringify(bytes.slice(0, 40))}`, () => status.test(text), { timeoutMs: 3000 });
      if (!/404|neither/.test(status.source)) await closed;
      s.destroy();
    }
    assert.equal((await get(port, '/after')).status, 200);
  });

  it('answers 502 for a replica\'s malformed answer and keeps serving', async () => {
    rawAnswer = (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\nok');
    const text = await wire(port, 'GET / HTTP/1.1\r\nHost: raw\r\nConnection: close\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 502 /);
    rawAnswer = (s) => s.end('NOT HTTP AT ALL\r\n\r\n');
    assert.match(await wire(port, 'GET / HTTP/1.1\r\nHost: raw\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 502 /);
    // A bad chunk in the bytes that came with the head: nothing went out yet, so still a 502.
    rawAnswer = (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    assert.match(await wire(port, 'GET / HTTP/1.1\r\nHost: raw\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 502 [^]*malformed body/);
    assert.equal((await get(port, '/after')).status, 200);
    const metrics = await sidecar.metrics.registry.metrics();
    assert.match(metrics, /meshflow_sidecar_upstream_failures_total\{service="raw",replica="raw",reason="bad_response"\} 3/);
  });

  it('a caller that leaves mid-answer frees its slot and closes the replica\'s connection', async () => {
    const before = echo.counts();
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    s.write('GET /hold HTTP/1.1\r\nHost: svc\r\n\r\n');
    await waitFor('the request at the replica', () => echo.held.length === 1);
    assert.equal(sidecar.proxy.scheduler.inFlight('svc', 'echo'), 1);
    s.destroy();
    await waitFor('the slot freed', () => sidecar.proxy.scheduler.inFlight('svc', 'echo') === 0);
    await waitFor('the replica\'s connection closed', () => echo.counts().closed > before.closed);
    echo.held.length = 0;
  });

  it('opens a new connection when the replica closed an idle one', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await get(port, '/a', { agent })).status, 200);
      const { connections } = echo.counts();
      echo.server.closeIdleConnections();
      await waitFor('the replica closed its idle connections', () => echo.counts().closed === echo.counts().connections);
      const again = await get(port, '/b', { agent });
      assert.equal(again.status, 200);
      assert.equal(echo.counts().connections, connections + 1);
      const metrics = await sidecar.metrics.registry.metrics();
      assert.doesNotMatch(metrics, /meshflow_sidecar_retries_total\{service="svc"\}/);
    } finally {
      agent.destroy();
    }
  });
});

// The StreamHub behind /api/v1/stream, with real WebSocket clients over TCP: hello snapshots, fan-out
// in order as JSON text frames, and slow readers dropped instead of buffered without bound.
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { StreamHub, STREAM_PATH, streamRoutes } from '../../controller/api/stream.ts';
import { waitFor } from '../support/wait.ts';
import { Inbox } from './inbox.ts';

async function serve(hub: StreamHub): Promise<{ app: FastifyInstance; url: string; http: string }> {
  const app = Fastify();
  await app.register(websocket);
  streamRoutes(app, hub);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no TCP address');
  return { app, url: `ws://127.0.0.1:${addr.port}${STREAM_PATH}`, http: `http://127.0.0.1:${addr.port}${STREAM_PATH}` };
}

describe('api: WebSocket stream hub', function () {
  this.timeout(20_000);
  let app: FastifyInstance | undefined;
  const inboxes: Inbox[] = [];
  const open = async (url: string): Promise<Inbox> => {
    const inbox = await Inbox.open(url);
    inboxes.push(inbox);
    return inbox;
  };

  afterEach(async () => {
    for (const i of inboxes.splice(0)) i.close();
    await app?.close();
    app = undefined;
  });

  it('greets each client with a hello carrying every provider\'s snapshot', async () => {
    const hub = new StreamHub();
    hub.provide('switches', () => [{ dpid: '0000000000000001' }]);
    hub.provide('links', async () => [{ id: 'l1' }]);
    hub.provide('broken', () => {
      throw new Error('not available');
    });
    const s = await serve(hub);
    app = s.app;
    const client = await open(s.url);
    const hello = await client.next('hello', (m) => m.kind === 'hello');
    assert.equal(client.frames[0]?.data, hello, 'hello is the first frame');
    assert.deepEqual(hello.snapshot, { switches: [{ dpid: '0000000000000001' }], links: [{ id: 'l1' }] });
    assert.deepEqual(hello.snapshotErrors, ['broken']);
    assert.equal(typeof hello.ts, 'number');
  });

  it('sends every published message to every client, in order, one JSON text frame each', async () => {
    const hub = new StreamHub();
    const s = await serve(hub);
    app = s.app;
    const a = await open(s.url);
    const b = await open(s.url);
    await a.next('hello a', (m) => m.kind === 'hello');
    await b.next('hello b', (m) => m.kind === 'hello');
    await waitFor('both clients registered', () => hub.stats.clients === 2);
    for (let i = 0; i < 50; i++) hub.publish({ kind: 'link_state', linkId: `l${i}`, seq: i });
    hub.publish({ kind: 'event', event: 'congestion_onset', ts: 1234 });
    for (const inbox of [a, b]) {
      await inbox.next('the last message', (m) => m.kind === 'event');
      const seqs = inbox.messages.filter((m) => m.kind === 'link_state').map((m) => m.seq);
      assert.deepEqual(seqs, [...Array(50).keys()]);
      assert.ok(inbox.frames.every((f) => !f.isBinary), 'text frames only');
      const stamped = inbox.messages.find((m) => m.kind === 'link_state');
      assert.equal(typeof stamped?.ts, 'number', 'a message without ts is stamped');
      assert.equal(inbox.messages.find((m) => m.kind === 'event')?.ts, 1234, 'a publisher\'s own ts is kept');
    }
    assert.equal(hub.stats.published, 51);
  });

  it('delivers what was published while the snapshot was being taken, after the hello', async () => {
    const hub = new StreamHub();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    hub.provide('links', async () => {
      await gate;
      return [];
    });
    const s = await serve(hub);
    app = s.app;
    const client = await open(s.url);
    await waitFor('the client to be registered', () => hub.stats.clients === 1);
    hub.publish({ kind: 'event', event: 'link_up', n: 1 });
    hub.publish({ kind: 'event', event: 'link_down', n: 2 });
    release();
    await client.next('the second event', (m) => m.n === 2);
    assert.deepEqual(
      client.messages.map((m) => m.kind === 'hello' ? 'hello' : m.n),
      ['hello', 1, 2],
    );
  });

  it('drops a client that stops reading instead of buffering for it, and keeps serving the others', async () => {
    const hub = new StreamHub({ maxBufferedBytes: 256 * 1024 });
    const s = await serve(hub);
    app = s.app;
    const slow = await open(s.url);
    const fast = await open(s.url);
    await slow.next('hello', (m) => m.kind === 'hello');
    await fast.next('hello', (m) => m.kind === 'hello');
    await waitFor('both clients registered', () => hub.stats.clients === 2);
    slow.socket.pause(); // stops reading from its TCP socket: the kernel buffers fill, then the server's
    const blob = 'x'.repeat(64 * 1024);
    let sent = 0;
    // The socket buffers of both kernels hold a few MB at most; a hub that never drops would never stop.
    await waitFor(
      'the slow client to be dropped',
      async () => {
        for (let i = 0; i < 8; i++) hub.publish({ kind: 'bulk', n: sent++, blob });
        await fast.next(`bulk ${sent - 1}`, (m) => m.n === sent - 1);
        return hub.stats.dropped === 1;
      },
      { timeoutMs: 15_000, intervalMs: 1 },
    );
    assert.ok(sent * blob.length < 64 * 1024 * 1024, `dropped after ${sent} messages`);
    assert.equal(hub.stats.clients, 1);
    slow.socket.resume();
    await waitFor('the slow client to see its connection end', () => slow.closed);
    hub.publish({ kind: 'after' });
    await fast.next('a message after the drop', (m) => m.kind === 'after');
    assert.ok(!fast.closed, 'the fast client is still connected');
  });

  it('answers a plain GET with 426 and how to connect', async () => {
    const s = await serve(new StreamHub());
    app = s.app;
    const res = await fetch(s.http);
    assert.equal(res.status, 426);
    assert.equal(res.headers.get('upgrade'), 'websocket');
    const body = (await res.json()) as { error: string };
    assert.equal(body.error, 'upgrade_required');
  });

  it('lets a provider be removed again', async () => {
    const hub = new StreamHub();
    const remove = hub.provide('links', () => ['x']);
    remove();
    const s = await serve(hub);
    app = s.app;
    const client = await open(s.url);
    const hello = await client.next('hello', (m) => m.kind === 'hello');
    assert.deepEqual(hello.snapshot, {});
  });
});

// The sidecar's class scheduler: its logic against a virtual clock, then the built-in sidecar
// scheduling and shedding real HTTP requests to a real replica that holds its answers.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ClassScheduler, DEFAULT_SCHEDULER, type SchedulerSettings, type ShedReason } from '../../bridge/sidecar/scheduler.ts';
import { SmoothWeightedRoundRobin } from '../../bridge/sidecar/swrr.ts';
import { parseSidecarConfig } from '../../bridge/sidecar/config.ts';
import { BuiltinSidecar } from '../../bridge/sidecar/sidecar.ts';
import { waitFor } from '../support/wait.ts';

interface Outcome {
  readonly id: string;
  replica?: string;
  shed?: ShedReason;
}

function harness(settings: Partial<SchedulerSettings>, replicas: readonly string[]) {
  let now = 0;
  const picker = new SmoothWeightedRoundRobin();
  picker.setWeights(Object.fromEntries(replicas.map((r) => [r, 1])));
  const s = new ClassScheduler({ ...DEFAULT_SCHEDULER, ...settings }, () => picker, () => replicas, () => now);
  const order: Outcome[] = [];
  const submit = (id: string, cls: string): Outcome => {
    const o: Outcome = { id };
    s.submit(
      'svc',
      cls,
      (replica) => {
        o.replica = replica;
        order.push(o);
      },
      (reason) => {
        o.shed = reason;
      },
    );
    return o;
  };
  return { s, submit, order, advance: (ms: number) => (now += ms) };
}

describe('sidecar class scheduler', () => {
  it('without limits, every request goes at once', () => {
    const h = harness({}, ['a', 'b']);
    const all = Array.from({ length: 50 }, (_, i) => h.submit(`r${i}`, i % 2 ? 'batch' : 'interactive'));
    assert.ok(all.every((o) => o.replica !== undefined));
    assert.equal(h.s.waiting('svc'), 0);
  });

  it('a freed slot goes to the highest class waiting, then first come first served', () => {
    const h = harness({ classes: ['interactive', 'batch'], concurrencyPerReplica: 1 }, ['a']);
    h.submit('b1', 'batch');
    h.submit('b2', 'batch');
    h.submit('i1', 'interactive');
    h.submit('b3', 'batch');
    h.submit('i2', 'interactive');
    assert.deepEqual(h.order.map((o) => o.id), ['b1']);
    for (let i = 0; i < 4; i++) h.s.release('svc', 'a');
    assert.deepEqual(h.order.map((o) => o.id), ['b1', 'i1', 'i2', 'b2', 'b3']);
  });

  it('a full queue sheds the newest of the lowest class for a higher one, and refuses what does not outrank it', () => {
    const h = harness({ classes: ['interactive', 'batch'], concurrencyPerReplica: 1, queueLimit: 2 }, ['a']);
    h.submit('b1', 'batch');
    const b2 = h.submit('b2', 'batch');
    const b3 = h.submit('b3', 'batch');
    const i1 = h.submit('i1', 'interactive');
    assert.equal(b3.shed, 'queue_full');
    assert.equal(b2.shed, undefined);
    const b4 = h.submit('b4', 'batch');
    assert.equal(b4.shed, 'queue_full');
    const other = h.submit('x', 'unlisted');
    assert.equal(other.shed, 'queue_full');
    h.s.release('svc', 'a');
    assert.equal(i1.replica, 'a');
  });

  it('a request that waited past the timeout is shed', () => {
    const h = harness({ classes: ['interactive', 'batch'], concurrencyPerReplica: 1, queueTimeoutMs: 1000 }, ['a']);
    h.submit('b1', 'batch');
    const b2 = h.submit('b2', 'batch');
    h.advance(999);
    h.s.expire();
    assert.equal(b2.shed, undefined);
    h.advance(1);
    h.s.expire();
    assert.equal(b2.shed, 'queue_timeout');
    assert.equal(h.s.waiting('svc'), 0);
  });

  it('a path without room takes only the first class; with no room anywhere the others are shed at once', () => {
    const h = harness({ classes: ['interactive', 'batch'] }, ['a', 'b']);
    h.s.setRoom('svc', 'a', false);
    const batch = Array.from({ length: 6 }, (_, i) => h.submit(`b${i}`, 'batch'));
    assert.ok(batch.every((o) => o.replica === 'b'));
    h.s.setRoom('svc', 'b', false);
    assert.equal(h.submit('b9', 'batch').shed, 'no_room');
    assert.equal(h.submit('u', 'unlisted').shed, 'no_room');
    assert.ok(h.submit('i', 'interactive').replica !== undefined);
    h.s.setRoom('svc', 'a', true);
    assert.equal(h.submit('b10', 'batch').replica, 'a');
  });

  it('room coming back sends the lower classes waiting at once, up to the replica\'s free slots', () => {
    const h = harness({ classes: ['interactive', 'batch'], concurrencyPerReplica: 2 }, ['a', 'b']);
    h.s.setRoom('svc', 'a', false);
    const batch = Array.from({ length: 5 }, (_, i) => h.submit(`b${i}`, 'batch'));
    // b takes two; a has free slots but no room for batch, so three wait.
    assert.deepEqual(batch.map((o) => o.replica), ['b', 'b', undefined, undefined, undefined]);
    assert.equal(h.s.waiting('svc'), 3);
    h.s.setRoom('svc', 'a', true);
    // No slot freed: room alone sends the first two waiting to a's two free slots, in order.
    assert.deepEqual(h.order.map((o) => `${o.id}@${o.replica}`), ['b0@b', 'b1@b', 'b2@a', 'b3@a']);
    assert.equal(h.s.waiting('svc'), 1);
    assert.equal(h.s.inFlight('svc', 'a'), 2);
    // Room said again changes nothing.
    h.s.setRoom('svc', 'a', true);
    assert.equal(h.s.waiting('svc'), 1);
    h.s.release('svc', 'a');
    assert.equal(batch[4]?.replica, 'a');
  });

  it('the last path losing its room sheds the lower classes waiting at once; the first class keeps waiting', () => {
    const h = harness({ classes: ['interactive', 'batch'], concurrencyPerReplica: 1 }, ['a', 'b']);
    h.s.setRoom('svc', 'a', false);
    const running = [h.submit('i0', 'interactive'), h.submit('i1', 'interactive')];
    assert.deepEqual(running.map((o) => o.replica).sort(), ['a', 'b']);
    const waiting = [h.submit('b0', 'batch'), h.submit('u0', 'unlisted'), h.submit('i2', 'interactive')];
    assert.equal(h.s.waiting('svc'), 3);
    h.s.setRoom('svc', 'b', false);
    assert.deepEqual(waiting.map((o) => o.shed), ['no_room', 'no_room', undefined]);
    assert.equal(h.s.waiting('svc'), 1);
    h.s.release('svc', 'b');
    assert.equal(waiting[2]?.replica, 'b', 'the first class still goes when a slot frees');
  });

  it('slots are counted per replica: a busy replica sends work to the other', () => {
    const h = harness({ classes: ['interactive'], concurrencyPerReplica: 2 }, ['a', 'b']);
    const first = Array.from({ length: 4 }, (_, i) => h.submit(`r${i}`, 'interactive'));
    assert.deepEqual(first.map((o) => o.replica).sort(), ['a', 'a', 'b', 'b']);
    assert.equal(h.submit('r5', 'interactive').replica, undefined);
    h.s.release('svc', 'b');
    assert.equal(h.order.at(-1)?.id, 'r5');
    assert.equal(h.order.at(-1)?.replica, 'b');
  });
});

describe('built-in sidecar: scheduling by class over real HTTP', () => {
  /** A replica that holds every answer until the test lets it go, and records arrival order and source address. */
  async function holdingReplica() {
    const held: { cls: string; from: string; res: ServerResponse }[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      held.push({ cls: String(req.headers['x-meshflow-priority']), from: req.socket.remoteAddress ?? '', res });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      held,
      port: (server.address() as AddressInfo).port,
      answer(i: number) {
        held[i]?.res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      },
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  function call(port: number, cls: string): Promise<{ status: number; retryAfter?: string; body: string }> {
    return new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/', headers: { host: 'svc', 'x-meshflow-priority': cls } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ...(res.headers['retry-after'] ? { retryAfter: res.headers['retry-after'] } : {}) }));
      })
        .on('error', reject)
        .end();
    });
  }

  it('holds batch behind interactive at the replica\'s slot, sheds with Retry-After, and sends batch from its own address', async () => {
    const replica = await holdingReplica();
    const sidecar = new BuiltinSidecar({
      config: parseSidecarConfig({
        id: 'sched',
        listen: { port: 0 },
        admin: { port: 0 },
        services: { svc: { replicas: [{ id: 'r1', host: '127.0.0.1', port: replica.port }] } },
        scheduling: {
          classes: [{ name: 'interactive' }, { name: 'batch', sourceAddress: '127.0.0.2' }],
          concurrencyPerReplica: 1,
          queueLimit: 2,
        },
      }),
    });
    const { proxyPort } = await sidecar.start();
    try {
      const b1 = call(proxyPort, 'batch');
      await waitFor('the first request at the replica', () => replica.held.length === 1);
      const b2 = call(proxyPort, 'batch');
      await waitFor('b2 waiting', () => sidecar.proxy.scheduler.waiting('svc') === 1);
      const i1 = call(proxyPort, 'interactive');
      await waitFor('i1 waiting', () => sidecar.proxy.scheduler.waiting('svc') === 2);
      // The queue is full: a third waiter of the lowest class is refused at once.
      const b3 = await call(proxyPort, 'batch');
      assert.equal(b3.status, 503);
      assert.equal(b3.retryAfter, '1');
      assert.match(b3.body, /queue full/);
      replica.answer(0);
      assert.equal((await b1).status, 200);
      await waitFor('the next request at the replica', () => replica.held.length === 2);
      assert.equal(replica.held[1]?.cls, 'interactive');
      replica.answer(1);
      assert.equal((await i1).status, 200);
      await waitFor('the batch request that waited', () => replica.held.length === 3);
      replica.answer(2);
      assert.equal((await b2).status, 200);
      assert.deepEqual(replica.held.map((h) => [h.cls, h.from]), [
        ['batch', '127.0.0.2'],
        ['interactive', '127.0.0.1'],
        ['batch', '127.0.0.2'],
      ]);
      const metrics = await sidecar.metrics.registry.metrics();
      assert.match(metrics, /meshflow_sidecar_shed_total\{service="svc",class="batch",reason="queue_full"\} 1/);
    } finally {
      await sidecar.stop();
      await replica.close();
    }
  });

  it('refuses a scheduling block with a bad source address, naming where', () => {
    assert.throws(
      () => parseSidecarConfig({ id: 's', listen: { port: 0 }, admin: { port: 0 }, services: { svc: { replicas: [{ id: 'r', host: '127.0.0.1', port: 1 }] } }, scheduling: { classes: [{ name: 'a', sourceAddress: '300.1.1.1' }] } }),
      /\/scheduling\/classes\/0\/sourceAddress/,
    );
  });
});

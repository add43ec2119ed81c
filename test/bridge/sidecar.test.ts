// The built-in sidecar end to end: real HTTP replicas on loopback, a real Mosquitto
// (stopped and restarted by PID), the sidecar's clock injected so TTLs pass without sleeping.
import assert from 'node:assert/strict';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connectBus, HintPublisher, subscribeHints, topics, type Hint } from '../../bridge/hints.ts';
import { VirtualClock } from '../../bus/clock.ts';
import type { MqttClient } from 'mqtt';
import { parseSidecarConfig, type SidecarConfig } from '../../bridge/sidecar/config.ts';
import { BuiltinSidecar } from '../../bridge/sidecar/sidecar.ts';
import { SmoothWeightedRoundRobin } from '../../bridge/sidecar/swrr.ts';
import { classify, traceparentFor } from '../../bridge/sidecar/classify.ts';
import { startMosquitto, type Service } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';
import { deadPort, startReplica, type TestReplica } from './support/replicas.ts';

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

interface Reply {
  status: number;
  replica: string;
  body: string;
  headers: IncomingHttpHeaders;
}

function call(port: number, service: string, path = '/', headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const method = body === undefined ? 'GET' : 'POST';
    request({ host: '127.0.0.1', port, path, method, agent, headers: { host: service, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const json = res.statusCode === 200 ? (JSON.parse(text) as { replica: string; body: string }) : undefined;
        resolve({ status: res.statusCode ?? 0, replica: json?.replica ?? text, body: json?.body ?? '', headers: res.headers });
      });
    })
      .on('error', reject)
      .end(body);
  });
}

/** n requests, `parallel` at a time; returns how many each replica answered. */
async function split(port: number, service: string, n: number, parallel = 10): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        next++;
        const r = await call(port, service);
        assert.equal(r.status, 200, r.replica);
        counts[r.replica] = (counts[r.replica] ?? 0) + 1;
      }
    }),
  );
  return counts;
}

describe('bridge built-in sidecar: pieces', () => {
  it('smooth weighted round robin is exact and interleaved', () => {
    const rr = new SmoothWeightedRoundRobin();
    rr.setWeights({ a: 5, b: 1, c: 1 });
    assert.equal(Array.from({ length: 7 }, () => rr.next()).join(''), 'aabacaa');
    const rr2 = new SmoothWeightedRoundRobin();
    rr2.setWeights({ a: 800, b: 200 });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 1000; i++) {
      const id = rr2.next() ?? '';
      counts[id] = (counts[id] ?? 0) + 1;
    }
    assert.deepEqual(counts, { a: 800, b: 200 });
    assert.equal(rr2.next(new Set(['a'])), 'b', 'a retry skips the excluded replica');
    rr2.setWeights({ a: 0, b: 0 });
    assert.equal(rr2.next(), undefined);
  });

  it('classifies by rules, keeps a class from an earlier hop, and handles traceparent', () => {
    const rules = [
      { class: 'gold', pathPrefix: '/checkout', method: 'POST' },
      { class: 'silver', header: { name: 'X-Tier', value: 'silver' } },
    ];
    assert.equal(classify({ method: 'POST', path: '/checkout/1', headers: {} }, rules, 'bulk'), 'gold');
    assert.equal(classify({ method: 'GET', path: '/checkout/1', headers: {} }, rules, 'bulk'), 'bulk');
    assert.equal(classify({ method: 'GET', path: '/', headers: { 'x-tier': 'silver' } }, rules, 'bulk'), 'silver');
    assert.equal(classify({ method: 'GET', path: '/', headers: { 'x-meshflow-priority': 'gold' } }, rules, 'bulk'), 'gold');
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    assert.equal(traceparentFor({ traceparent: tp }), tp);
    assert.match(traceparentFor({}), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.notEqual(traceparentFor({ traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' }).slice(3, 35), '0'.repeat(32));
    // New ids come from a pool of random bytes: across its refills they stay well formed and distinct.
    const fresh = Array.from({ length: 1000 }, () => traceparentFor({}));
    for (const id of fresh) assert.match(id, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(new Set(fresh.map((id) => id.slice(3, 35))).size, fresh.length);
    assert.equal(new Set(fresh.map((id) => id.slice(36, 52))).size, fresh.length);
  });

  it('rejects a bad config naming the place', () => {
    assert.throws(() => parseSidecarConfig({ id: 'x', listen: { port: 'a' }, admin: { port: 0 }, services: {} }), /\/listen\/port: must be integer/);
  });
});

describe('bridge built-in sidecar: end to end (real Mosquitto)', function () {
  this.timeout(60_000);
  let mosquitto: Service | undefined;
  let replicas: TestReplica[] = [];
  let sidecar: BuiltinSidecar | undefined;
  let bridgeClient: MqttClient | undefined;
  let publisher: HintPublisher;
  let port = 0;
  let adminPort = 0;
  const clock = new VirtualClock(1_700_000_000_000);
  const TTL = 5_000;

  const publishWeights = (a: number, b: number) =>
    publisher.publish({ kind: 'weights', sidecarId: 'web-1', services: { orders: { 'orders-a': a, 'orders-b': b } } }, { ttlMs: TTL });
  const weightsInForce = async () =>
    (await (await fetch(`http://127.0.0.1:${adminPort}/weights`)).json()) as { fresh: boolean; services: Record<string, Record<string, number>> };
  const waitWeights = (a: number, b: number) =>
    waitFor(`weights ${a}/${b} in force`, async () => {
      const w = await weightsInForce();
      return w.services['orders']?.['orders-a'] === a && w.services['orders']?.['orders-b'] === b;
    });

  before(async () => {
    mosquitto = await startMosquitto();
    replicas = [await startReplica('orders-a'), await startReplica('orders-b')];
    const [a, b] = replicas as [TestReplica, TestReplica];
    const config: SidecarConfig = parseSidecarConfig({
      id: 'web-1',
      host: 'h1',
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      services: {
        orders: { replicas: [{ id: 'orders-a', host: '127.0.0.1', port: a.port }, { id: 'orders-b', host: '127.0.0.1', port: b.port }] },
        flaky: { replicas: [{ id: 'gone', host: '127.0.0.1', port: await deadPort() }, { id: 'alive', host: '127.0.0.1', port: a.port }] },
      },
      ingress: { defaultClass: 'bulk', rules: [{ class: 'gold', pathPrefix: '/checkout' }] },
      connectTimeoutMs: 1000,
    });
    sidecar = new BuiltinSidecar({ config, mqttUrl: mosquitto.url, clock });
    ({ proxyPort: port, adminPort } = await sidecar.start());
    bridgeClient = await connectBus(mosquitto.url, { backoff: { initialMs: 50, maxMs: 200 } });
    publisher = new HintPublisher(bridgeClient, { source: 'test-bridge', clock });
  });

  after(async () => {
    await bridgeClient?.endAsync(true);
    await sidecar?.stop();
    await Promise.all(replicas.map((r) => r.close()));
    await mosquitto?.stop();
    agent.destroy();
  });

  it('announces itself online, retained', async () => {
    const seen: Hint[] = [];
    const sub = await subscribeHints(mosquitto!.url, [topics.status('web-1')], (h) => void seen.push(h));
    const status = await waitFor('online status', () => seen.find((h) => h.kind === 'sidecar_status' && h.state === 'online'));
    assert.deepEqual(status.kind === 'sidecar_status' && status.services, ['orders', 'flaky']);
    await sub.close();
  });

  it('splits 1,000 requests as its weights say (800/200), with no weights yet splitting evenly', async () => {
    assert.deepEqual(await split(port, 'orders', 100), { 'orders-a': 50, 'orders-b': 50 });
    await publishWeights(800, 200);
    await waitWeights(800, 200);
    const counts = await split(port, 'orders', 1000);
    assert.ok(Math.abs((counts['orders-a'] ?? 0) - 800) <= 2, JSON.stringify(counts));
  });

  it('falls back to even weights once they are past their ttl', async () => {
    clock.advance(TTL + 1);
    assert.equal((await weightsInForce()).fresh, false);
    assert.deepEqual(await split(port, 'orders', 1000), { 'orders-a': 500, 'orders-b': 500 });
  });

  it('keeps the last weights in force while the broker is away, until their ttl', async () => {
    await publishWeights(700, 300);
    await waitWeights(700, 300);
    await mosquitto!.stop();
    await waitFor('sidecar notices the broker is gone', async () => {
      const h = (await (await fetch(`http://127.0.0.1:${adminPort}/healthz`)).json()) as { mqtt: boolean };
      return h.mqtt === false;
    });
    const counts = await split(port, 'orders', 1000);
    assert.ok(Math.abs((counts['orders-a'] ?? 0) - 700) <= 2, JSON.stringify(counts));
    clock.advance(TTL + 1);
    assert.deepEqual(await split(port, 'orders', 100), { 'orders-a': 50, 'orders-b': 50 });
  });

  it('picks the bus up again when the broker comes back', async () => {
    mosquitto = await startMosquitto({ port: mosquitto!.port });
    await waitFor('bridge client reconnected', () => bridgeClient!.connected);
    await waitFor('sidecar reconnected', async () => {
      const h = (await (await fetch(`http://127.0.0.1:${adminPort}/healthz`)).json()) as { mqtt: boolean };
      return h.mqtt;
    });
    // Retry the publication until it lands: the sidecar's subscription is re-made on connect.
    await waitFor('fresh weights after reconnect', async () => {
      await publishWeights(600, 400);
      const w = await weightsInForce();
      return w.services['orders']?.['orders-a'] === 600;
    }, { intervalMs: 200 });
  });

  it('retries another replica once when the first refuses the connection', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => call(port, 'flaky')));
    assert.ok(results.every((r) => r.status === 200 && r.headers['x-meshflow-replica'] === 'alive'), JSON.stringify(results.map((r) => r.status)));
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    assert.match(metrics, /meshflow_sidecar_retries_total\{service="flaky"\} (\d+)/);
    assert.match(metrics, /meshflow_sidecar_upstream_failures_total\{service="flaky",replica="gone",reason="ECONNREFUSED"\} \d+/);
    // A request body survives the retry: it is not read until a connection is up.
    const posts = await Promise.all(Array.from({ length: 4 }, (_, i) => call(port, 'flaky', '/orders', {}, `order ${i}`)));
    assert.deepEqual(posts.map((p) => [p.status, p.body]), [0, 1, 2, 3].map((i) => [200, `order ${i}`]));
  });

  it('carries the priority class and traceparent to the replica: generated, or propagated', async () => {
    const a = replicas[0]!;
    const b = replicas[1]!;
    const seenBy = (r: Reply) => (r.replica === a.id ? a : b).seen.at(-1);
    // No header: the ingress rule classifies, a traceparent is generated.
    const gold = seenBy(await call(port, 'orders', '/checkout/42'));
    assert.equal(gold?.['x-meshflow-priority'], 'gold');
    assert.match(String(gold?.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // Both set by an earlier hop: carried through unchanged.
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const carried = seenBy(await call(port, 'orders', '/checkout/43', { traceparent: tp, 'x-meshflow-priority': 'silver' }));
    assert.equal(carried?.traceparent, tp);
    assert.equal(carried?.['x-meshflow-priority'], 'silver');
  });

  it('exposes per-replica request counts and latency at /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    const count = (replica: string) =>
      Number(new RegExp(`meshflow_sidecar_requests_total\\{service="orders",replica="${replica}",class="bulk"\\} (\\d+)`).exec(text)?.[1]);
    // 50 + 800 + 500 + 700 + 50 (+1 of the two tagged calls, class silver, not counted here)
    assert.ok(count('orders-a') >= 2100 && count('orders-b') >= 900, `a=${count('orders-a')} b=${count('orders-b')}`);
    assert.match(text, /meshflow_sidecar_requests_total\{service="orders",replica="orders-[ab]",class="gold"\} 1/);
    assert.match(text, /meshflow_sidecar_request_duration_seconds_bucket\{le="[0-9.]+",service="orders",replica="orders-a",class="bulk"\}/);
    assert.match(text, /meshflow_sidecar_weight\{service="orders",replica="orders-a"\} 600/);
  });
});

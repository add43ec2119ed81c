// The bridge runner end to end: a real (embedded) MQTT broker, a tiny fastify server
// standing in for the controller's intents API, cost rows in, weights and intents out.
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { buildApi } from '../../bridge/api.ts';
import { Bridge } from '../../bridge/bridge.ts';
import { connectBus, HintPublisher, subscribeHints, topics, type Hint, type HintSubscription } from '../../bridge/hints.ts';
import { IntentsClient, IntentsError } from '../../bridge/intents-client.ts';
import { startBroker, type EmbeddedBroker } from '../../bus/broker.ts';
import { waitFor } from '../support/wait.ts';
import { P1, P3, costRowBody, ordersRegistry } from './support/episode.ts';


interface FakeController {
  app: FastifyInstance;
  url: string;
  posted: unknown[];
  deleted: string[];
}

async function fakeController(): Promise<FakeController> {
  const app = Fastify();
  const posted: unknown[] = [];
  const deleted: string[] = [];
  const live = new Set<string>();
  app.post('/api/v1/intents', async (req, reply) => {
    posted.push(req.body);
    const id = `intent-${posted.length}`;
    live.add(id);
    return reply.code(201).send({ id, path: [`${P1}:2-${P3}:1`] });
  });
  app.delete<{ Params: { id: string } }>('/api/v1/intents/:id', async (req, reply) => {
    if (!live.delete(req.params.id)) return reply.code(404).send({ error: 'not_found' });
    deleted.push(req.params.id);
    return reply.code(204).send();
  });
  app.post('/broken/api/v1/intents', async (_req, reply) => reply.code(500).send({ error: 'boom' }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, posted, deleted };
}

describe('bridge intents client (against a stand-in controller API)', () => {
  let ctl: FakeController;
  before(async () => (ctl = await fakeController()));
  after(() => ctl.app.close());

  it('posts the intent without the bridge bookkeeping key and returns the id and path', async () => {
    const c = new IntentsClient(`${ctl.url}/`);
    const created = await c.create({ key: 'k', src: 'h1', dst: 'h3', policy: 'least-congested', dstPort: 80, ipProto: 6, priority: 'high' });
    assert.equal(created.id, 'intent-1');
    assert.deepEqual(created.path, [`${P1}:2-${P3}:1`]);
    assert.deepEqual(ctl.posted.at(-1), { src: 'h1', dst: 'h3', policy: 'least-congested', dstPort: 80, ipProto: 6, priority: 'high' });
    await c.remove(created.id);
    await c.remove(created.id); // already gone: still fine
    assert.deepEqual(ctl.deleted, ['intent-1']);
  });

  it('reports a refusal or an unreachable controller as an IntentsError with the status', async () => {
    await assert.rejects(new IntentsClient(`${ctl.url}/broken`).create({ key: 'k', src: 'a', dst: 'b', policy: 'least-congested' }), (e: unknown) => e instanceof IntentsError && e.status === 500);
    await assert.rejects(new IntentsClient('http://127.0.0.1:1', { timeoutMs: 500 }).create({ key: 'k', src: 'a', dst: 'b', policy: 'least-congested' }), (e: unknown) => e instanceof IntentsError && e.status === 0);
  });
});

describe('bridge runner (embedded broker, stand-in controller)', function () {
  this.timeout(30_000);
  let broker: EmbeddedBroker;
  let ctl: FakeController;
  let client: MqttClient;
  let controller: HintPublisher;
  let bridge: Bridge;
  let sub: HintSubscription;
  const weights: Hint[] = [];
  const store = ordersRegistry();
  const costRow = (u: number) => controller.publish(costRowBody(u));
  const lastWeights = () => {
    const h = weights.at(-1);
    return h?.kind === 'weights' ? h : undefined;
  };

  before(async () => {
    broker = await startBroker({ port: 0 });
    ctl = await fakeController();
    client = await connectBus(broker.urlFor('controller'));
    controller = new HintPublisher(client, { source: 'test-controller' });
    sub = await subscribeHints(client, [topics.weights('web-1')], (h) => void weights.push(h));
    // Smoothing off: this test is about plumbing, the policy tests cover the dynamics.
    bridge = new Bridge({ mqttUrl: broker.urlFor('bridge'), registry: store, controllerUrl: ctl.url, tickMs: 50, weightsTtlMs: 1200, params: { smoothingMs: 0 }, levers: 'independent' }); // both levers at once, as this test expects
    await bridge.start();
  });

  after(async () => {
    await bridge?.stop();
    await sub?.close();
    await client?.endAsync();
    await ctl?.app.close();
    await broker?.stop();
  });

  it('publishes even weights at start, retained, with the configured ttl', async () => {
    const w = await waitFor('first weights', lastWeights);
    assert.deepEqual(w.services, { orders: { 'orders-a': 500, 'orders-b': 500 } });
    assert.equal(w.ttlMs, 1200);
    assert.equal(w.sidecarId, 'web-1');
  });

  it('on a congested path: shifts weight away and asks the controller for a high-priority least-congested path', async () => {
    await costRow(0.9);
    const w = await waitFor('congestion weights', () => {
      const x = lastWeights();
      return x?.services['orders']?.['orders-b'] === 167 ? x : undefined;
    });
    assert.equal(w.services['orders']?.['orders-a'], 833);
    await waitFor('intent posted', () => ctl.posted.length === 1);
    assert.deepEqual(ctl.posted[0], { src: 'h1', dst: 'h3', policy: 'least-congested', ipProto: 6, dstPort: 8080, priority: 'high' });
    // The bridge holds the intent once the controller's answer is in, a moment after the controller saw the request.
    await waitFor('intent held', () => bridge.currentIntents.length === 1);
    assert.deepEqual(bridge.currentIntents.map((i) => i.id), ['intent-1']);
  });

  it('republishes unchanged weights before their ttl runs out', async () => {
    const n = weights.length;
    // refresh is ttl/3 = 400 ms
    const again = await waitFor('refresh', () => (weights.length > n ? lastWeights() : undefined), { timeoutMs: 5000 });
    assert.equal(again.services['orders']?.['orders-b'], 167);
  });

  it('when congestion clears: withdraws the intent and restores even weights', async () => {
    await costRow(0.2);
    await waitFor('intent deleted', () => ctl.deleted.includes('intent-1'));
    await waitFor('even weights', () => lastWeights()?.services['orders']?.['orders-b'] === 500);
    // The controller sees the DELETE before the bridge has its answer and forgets the intent.
    await waitFor('intent forgotten', () => bridge.currentIntents.length === 0);
  });

  it('follows registry changes made through the REST API, and shows its weights there', async () => {
    const api = buildApi(store, bridge);
    const put = await api.inject({ method: 'PUT', url: '/api/v1/registry/replicas/orders-c', payload: { service: 'orders', host: 'h2', port: 8080 } });
    assert.equal(put.statusCode, 201);
    await waitFor('three-way weights', () => Object.keys(lastWeights()?.services['orders'] ?? {}).length === 3);
    const shown = (await api.inject({ url: '/api/v1/weights' })).json<Record<string, Record<string, Record<string, number>>>>();
    assert.deepEqual(shown['web-1']?.['orders'], { 'orders-a': 334, 'orders-b': 333, 'orders-c': 333 });
  });

  it('withdraws the intents it holds when it stops', async () => {
    await costRow(0.95);
    await waitFor('second intent', () => ctl.posted.length === 2);
    await bridge.stop();
    assert.ok(ctl.deleted.includes('intent-2'));
  });
});

// The bridge's /metrics, scraped from its REST API while a real bridge runs against an embedded
// broker and a stand-in controller: weights, publications, hints (valid and not), intents, adapter errors.
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import type { WeightsAdapter } from '../../bridge/adapters/adapter.ts';
import { buildApi } from '../../bridge/api.ts';
import { Bridge } from '../../bridge/bridge.ts';
import { connectBus, HintPublisher, topics } from '../../bridge/hints.ts';
import { BridgeMetrics } from '../../bridge/metrics.ts';
import { parseRegistry } from '../../bridge/registry.ts';
import { RegistryStore } from '../../bridge/registry-store.ts';
import { startBroker, type EmbeddedBroker } from '../../bus/broker.ts';
import { parseProm, typeOf, valueOf, type Sample } from '../api/prom.ts';
import { waitFor } from '../support/wait.ts';
import { P1, P2, P3, costRowBody } from './support/episode.ts';


describe('bridge metrics (scraped from the bridge REST API)', function () {
  this.timeout(30_000);
  let broker: EmbeddedBroker;
  let ctl: FastifyInstance;
  let client: MqttClient;
  let publisher: HintPublisher;
  let bridge: Bridge;
  let api: FastifyInstance;
  const metrics = new BridgeMetrics({ processMetrics: false });
  const applied: string[] = [];
  // Stands in for the sidecars: web-1 takes weights, web-2's proxy is down.
  const adapter: WeightsAdapter = {
    kind: 'builtin',
    apply: async (sidecar) => {
      if (sidecar.id === 'web-2') throw new Error('connection refused');
      applied.push(sidecar.id);
    },
    close: async () => {},
  };
  const store = new RegistryStore(
    parseRegistry({
      services: [{ name: 'orders', port: 8080, latencySensitive: true }],
      replicas: [
        { id: 'orders-a', service: 'orders', host: 'h2', port: 8080 },
        { id: 'orders-b', service: 'orders', host: 'h3', port: 8080 },
      ],
      sidecars: [
        { id: 'web-1', host: 'h1', calls: ['orders'] },
        { id: 'web-2', host: 'h1', calls: ['orders'] },
      ],
      attachments: { h1: P1, h2: P2, h3: P3 },
    }),
  );
  const costRow = (u: number) => publisher.publish(costRowBody(u));

  async function scrape(): Promise<{ text: string; samples: Sample[] }> {
    const res = await api.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return { text: res.body, samples: parseProm(res.body) };
  }

  before(async () => {
    broker = await startBroker({ port: 0 });
    ctl = Fastify();
    let n = 0;
    ctl.post('/api/v1/intents', async (_req, reply) => reply.code(201).send({ id: `i${++n}` }));
    ctl.delete('/api/v1/intents/:id', async (_req, reply) => reply.code(204).send());
    const ctlUrl = await ctl.listen({ port: 0, host: '127.0.0.1' });
    client = await connectBus(broker.urlFor('controller'));
    publisher = new HintPublisher(client, { source: 'test-controller' });
    bridge = new Bridge({
      mqttUrl: broker.urlFor('bridge'),
      registry: store,
      controllerUrl: ctlUrl,
      tickMs: 50,
      weightsTtlMs: 30_000,
      params: { smoothingMs: 0 },
      // Both levers at once, as this test expects: the arbiter would move one at a time (arbiter.test.ts).
      levers: 'independent',
      adapters: [adapter],
      metrics,
    });
    await bridge.start();
    api = buildApi(store, bridge, { metrics });
  });

  after(async () => {
    await bridge?.stop();
    await api?.close();
    await client?.endAsync();
    await ctl?.close();
    await broker?.stop();
  });

  it('shows the current weight per sidecar, service and replica, and counts publications and adapter errors', async () => {
    await waitFor('first weights applied', () => applied.includes('web-1'));
    const { text, samples } = await scrape();
    assert.equal(typeOf(text, 'meshflow_bridge_weight'), 'gauge');
    assert.equal(valueOf(samples, 'meshflow_bridge_weight', { sidecar: 'web-1', service: 'orders', replica: 'orders-a' }), 500);
    assert.equal(valueOf(samples, 'meshflow_bridge_weight', { sidecar: 'web-1', service: 'orders', replica: 'orders-b' }), 500);
    assert.equal(typeOf(text, 'meshflow_bridge_weights_publications_total'), 'counter');
    assert.ok((valueOf(samples, 'meshflow_bridge_weights_publications_total', { sidecar: 'web-1', kind: 'builtin' }) ?? 0) >= 1);
    assert.equal(valueOf(samples, 'meshflow_bridge_weights_publications_total', { sidecar: 'web-2' }), undefined, 'a failing sidecar has no publications');
    await waitFor('web-2 retried', async () => (valueOf((await scrape()).samples, 'meshflow_bridge_adapter_errors_total', { sidecar: 'web-2', kind: 'builtin' }) ?? 0) >= 2);
  });

  it('counts hints received by kind, and invalid ones by error code', async () => {
    const before = valueOf((await scrape()).samples, 'meshflow_bridge_hints_received_total', { kind: 'cost_row' }) ?? 0;
    await costRow(0.9);
    await client.publishAsync(topics.costs(P2), '{"kind":"cost_row","v":1}', { qos: 1 });
    await client.publishAsync(topics.costs(P2), 'not json', { qos: 1 });
    await waitFor('hints counted', async () => {
      const { samples } = await scrape();
      const invalid = samples.filter((s) => s.name === 'meshflow_bridge_hints_invalid_total').reduce((a, s) => a + s.value, 0);
      return (valueOf(samples, 'meshflow_bridge_hints_received_total', { kind: 'cost_row' }) ?? 0) > before && invalid >= 2;
    });
  });

  it('shows intents active and counts intents posted and deleted, and the weights follow congestion', async () => {
    await waitFor('intent posted', async () => valueOf((await scrape()).samples, 'meshflow_bridge_intents_posted_total') === 1);
    let { samples } = await scrape();
    assert.equal(valueOf(samples, 'meshflow_bridge_intents_active'), 1);
    assert.equal(valueOf(samples, 'meshflow_bridge_weight', { sidecar: 'web-1', service: 'orders', replica: 'orders-b' }), 167);
    await costRow(0.1);
    await waitFor('intent deleted', async () => valueOf((await scrape()).samples, 'meshflow_bridge_intents_deleted_total') === 1);
    ({ samples } = await scrape());
    assert.equal(valueOf(samples, 'meshflow_bridge_intents_active'), 0);
    assert.equal(valueOf(samples, 'meshflow_bridge_intent_errors_total', { op: 'post' }), undefined);
  });

  it('drops the series of a replica that left the registry', async () => {
    const del = await api.inject({ method: 'DELETE', url: '/api/v1/registry/replicas/orders-b' });
    assert.equal(del.statusCode, 200);
    await waitFor('orders-b gone', async () => valueOf((await scrape()).samples, 'meshflow_bridge_weight', { replica: 'orders-b', sidecar: 'web-1' }) === undefined);
    assert.equal(valueOf((await scrape()).samples, 'meshflow_bridge_weight', { sidecar: 'web-1', replica: 'orders-a' }), 1000);
  });
});

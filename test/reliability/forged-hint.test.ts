// The attack of issue 16, against the real stack: a client with access to the bus (here a shared
// Mosquitto that lets anyone publish) but without the publisher's key forges a cost row with
// `source: "evil"`, sidecar weights, and the controller's retained status. With signed hints the
// bridge moves no weight and posts no intent, a sidecar keeps its weights, and readers keep (and
// late readers get back) the controller's real status.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { connect, type MqttClient } from 'mqtt';
import { Bridge } from '../../bridge/bridge.ts';
import { BridgeMetrics } from '../../bridge/metrics.ts';
import { BuiltinSidecar } from '../../bridge/sidecar/sidecar.ts';
import { connectBus } from '../../bus/client.ts';
import { HintPublisher } from '../../bus/publisher.ts';
import { subscribeHints, type HintSubscription } from '../../bus/subscriber.ts';
import { HintSigner, loadOrCreateSigner, trustFrom, type TrustStore } from '../../bus/signing.ts';
import { patterns, topics } from '../../bus/topics.ts';
import type { Hint } from '../../bus/hints.ts';
import { runController, type RunningController } from '../../controller/run.ts';
import { startMosquitto, type Service } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';
import { P1, P2, costRowBody, ordersRegistry } from '../bridge/support/episode.ts';
import { generateKeyPairSync } from 'node:crypto';

/** Sum of a counter's series in a Prometheus text exposition, optionally only those with a label value. */
function counterSum(text: string, name: string, labelMatch?: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labelMatch !== undefined && !line.includes(labelMatch)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

interface IntentsApi {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly posted: unknown[];
}

async function intentsApi(): Promise<IntentsApi> {
  const app = Fastify();
  const posted: unknown[] = [];
  app.post('/api/v1/intents', async (req, reply) => {
    posted.push(req.body);
    return reply.code(201).send({ id: `intent-${posted.length}`, path: [] });
  });
  app.delete('/api/v1/intents/:id', async (_req, reply) => reply.code(204).send());
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, posted };
}

describe('reliability: forged hints (real Mosquitto, real bridge, sidecar and controller)', function () {
  this.timeout(60_000);
  let mosq: Service;
  let dir: string;
  let controllerKey: Awaited<ReturnType<typeof loadOrCreateSigner>>;
  let bridgeKey: Awaited<ReturnType<typeof loadOrCreateSigner>>;
  let attacker: MqttClient;
  const clients: MqttClient[] = [];

  before(async () => {
    mosq = await startMosquitto();
    dir = await mkdtemp(join(tmpdir(), 'meshflow-forged-'));
    controllerKey = await loadOrCreateSigner(dir, 'controller');
    bridgeKey = await loadOrCreateSigner(dir, 'bridge');
    attacker = connect(mosq.url, { clientId: 'evil', reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => attacker.once('connect', () => resolve()).once('error', reject));
  });
  after(async () => {
    await attacker?.endAsync();
    for (const c of clients) await c.endAsync();
    await mosq?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The attacker's three ways to dress a hint: unsigned, signed by its own key, or claiming the real key id. */
  function forgeries(topic: string, hint: object): string[] {
    const evil = new HintSigner('evil', generateKeyPairSync('ed25519').privateKey);
    const ownKey = JSON.stringify(evil.signHint(topic, hint));
    return [JSON.stringify(hint), ownKey, ownKey.replace('"key":"evil"', `"key":"${controllerKey.signer.keyId}"`)];
  }

  describe('cost rows into the bridge', () => {
    let api: IntentsApi;
    let bridge: Bridge;
    let metrics: BridgeMetrics;
    let controller: HintPublisher;
    let sidecar: BuiltinSidecar;
    let weightsSeen: HintSubscription;
    const verifiedWeights: Hint[] = [];
    const lastVerified = () => {
      const h = verifiedWeights.at(-1);
      return h?.kind === 'weights' ? h.services['orders'] : undefined;
    };

    before(async () => {
      api = await intentsApi();
      metrics = new BridgeMetrics({ processMetrics: false });
      const trust = await trustFrom({ specs: [`controller=${controllerKey.files.pub}`] });
      const registry = ordersRegistry();
      bridge = new Bridge({
        mqttUrl: mosq.url,
        registry,
        controllerUrl: api.url,
        tickMs: 50,
        weightsTtlMs: 5000,
        params: { smoothingMs: 0 },
        // Both levers at once, so one congested row shows in weights and in an intent.
        levers: 'independent',
        signer: bridgeKey.signer,
        trust,
        metrics,
        source: 'bridge',
      });
      await bridge.start();
      const c = await connectBus(mosq.url, { clientId: 'forged-test-controller' });
      clients.push(c);
      controller = new HintPublisher(c, { source: 'controller-1', signer: controllerKey.signer });
      // What a sidecar would take: weights that verify against the bridge's key.
      const bridgeTrust: TrustStore = await trustFrom({ specs: [`bridge=${bridgeKey.files.pub}`] });
      weightsSeen = await subscribeHints(c, [topics.weights('web-1')], (h) => void verifiedWeights.push(h), { trust: bridgeTrust });
      sidecar = new BuiltinSidecar({
        config: {
          id: 'web-1',
          listen: { port: 0 },
          admin: { port: 0 },
          services: { orders: { replicas: [{ id: 'orders-a', host: '127.0.0.1', port: 9 }, { id: 'orders-b', host: '127.0.0.1', port: 9 }] } },
        },
        mqttUrl: mosq.url,
        trust: bridgeTrust,
      });
      await sidecar.start();
      await controller.publish(costRowBody(0.1));
      await waitFor('even weights from the bridge', () => lastVerified()?.['orders-a'] === 500 && sidecar.weights.fresh());
    });
    after(async () => {
      await sidecar?.stop();
      await weightsSeen?.close();
      await bridge?.stop();
      await api?.app.close();
    });

    it('a forged cost_row (source "evil") from a client without the key changes no weight and posts no intent', async () => {
      const topic = topics.costs(P1);
      const forged = { v: 2, ts: Date.now(), seq: 1, ttlMs: 30_000, source: 'evil', ...costRowBody(0.95) };
      // The signed row of the real controller, moved to another source's topic, is a forgery too.
      const moved = JSON.stringify(controllerKey.signer.signHint(topic, forged)).replace(`"srcPid":"${P1}"`, `"srcPid":"${P2}"`);
      for (const payload of forgeries(topic, forged)) await attacker.publishAsync(topic, payload, { qos: 1, retain: true });
      await attacker.publishAsync(topics.costs(P2), moved, { qos: 1, retain: true });
      const refused = await waitFor('four refusals counted', async () => {
        const n = counterSum((await metrics.scrape()).body, 'meshflow_bridge_hints_refused_total');
        return n >= 4 ? n : undefined;
      });
      const body = (await metrics.scrape()).body;
      console.log(`      refused by the bridge: ${refused} (${['UNSIGNED', 'UNTRUSTED', 'SIGNATURE'].map((c) => `${c} ${counterSum(body, 'meshflow_bridge_hints_refused_total', `HINT_ERR_${c}`)}`).join(', ')})`);
      assert.equal(counterSum(body, 'meshflow_bridge_hints_refused_total', 'HINT_ERR_UNSIGNED'), 1);
      assert.equal(counterSum(body, 'meshflow_bridge_hints_refused_total', 'HINT_ERR_UNTRUSTED'), 1);
      assert.equal(counterSum(body, 'meshflow_bridge_hints_refused_total', 'HINT_ERR_SIGNATURE'), 2);
      // Policy runs after the forgeries arrived: still even, and nothing asked of the controller.
      await bridge.schedule();
      await bridge.schedule();
      assert.deepEqual(bridge.currentWeights['web-1']?.['orders'], { 'orders-a': 500, 'orders-b': 500 });
      assert.deepEqual(lastVerified(), { 'orders-a': 500, 'orders-b': 500 });
      assert.equal(api.posted.length, 0);
    });

    it('forged weights (unsigned, or signed by another key) leave a verifying sidecar on the weights it had', async () => {
      const topic = topics.weights('web-1');
      const forged = { v: 1, ts: Date.now(), seq: 1, ttlMs: 60_000, source: 'evil', kind: 'weights', sidecarId: 'web-1', services: { orders: { 'orders-a': 1000, 'orders-b': 0 } } };
      const [unsigned, ownKey] = forgeries(topic, forged);
      for (const payload of [unsigned!, ownKey!]) await attacker.publishAsync(topic, payload, { qos: 1, retain: true });
      await waitFor('two weights refusals at the sidecar', async () => {
        const text = await sidecar.metrics.registry.metrics();
        return counterSum(text, 'meshflow_sidecar_hints_refused_total') >= 2;
      });
      assert.deepEqual(sidecar.weights.effective('orders', ['orders-a', 'orders-b']), { 'orders-a': 500, 'orders-b': 500 });
    });

    it('the same congested row signed with the controller key does move the weights and ask for an intent', async () => {
      // The control: the refusals above are for the signature, not for the figures.
      await controller.publish(costRowBody(0.95));
      await waitFor('weights moved away from the congested replica', () => (lastVerified()?.['orders-b'] ?? 500) < 500);
      await waitFor('an intent posted', () => api.posted.length >= 1);
      await waitFor('the sidecar follows', () => (sidecar.weights.effective('orders', ['orders-a', 'orders-b'])['orders-b'] ?? 500) < 500);
    });
  });

  describe("the controller's retained status", () => {
    let running: RunningController;
    let reader: HintSubscription;
    const seen: Hint[] = [];
    let refused = 0;
    let trust: TrustStore;

    before(async () => {
      trust = await trustFrom({ specs: [`controller=${controllerKey.files.pub}`] });
      running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, mqttUrl: mosq.url, controllerId: 'controller', signer: controllerKey.signer, pollIntervalMs: 1000 });
      const c = await connectBus(mosq.url, { clientId: 'status-reader' });
      clients.push(c);
      reader = await subscribeHints(c, [patterns.controllers], (h) => void seen.push(h), { trust, onInvalid: () => void refused++ });
      await waitFor('the real online status', () => seen.some((h) => h.kind === 'controller_status' && h.state === 'online'));
    });
    after(async () => {
      await reader?.close();
      await running?.stop();
    });

    it('a forged retained status is refused by readers, and the controller puts its own back for later readers', async () => {
      const topic = topics.controller('controller');
      const offline = { v: 1, ts: Date.now(), seq: 1, ttlMs: 86_400_000, source: 'evil', kind: 'controller_status', controllerId: 'controller', state: 'offline' };
      await attacker.publishAsync(topic, JSON.stringify({ forged: true }), { qos: 1, retain: true });
      for (const payload of forgeries(topic, offline)) await attacker.publishAsync(topic, payload, { qos: 1, retain: true });
      await waitFor('four forged statuses refused', () => refused >= 4);
      const last = seen.filter((h) => h.kind === 'controller_status').at(-1);
      assert.equal(last?.kind === 'controller_status' && last.state, 'online');
      // A reader that arrives now gets the retained copy: the controller's own, signed, online.
      const late = await connectBus(mosq.url, { clientId: 'late-reader' });
      clients.push(late);
      const got: Hint[] = [];
      const sub = await subscribeHints(late, [topics.controller('controller')], (h) => void got.push(h), { trust });
      try {
        const status = await waitFor('the real status back in the retained slot', () => got.find((h) => h.kind === 'controller_status'));
        assert.equal(status.kind === 'controller_status' && status.state, 'online');
        assert.equal(status.sig?.key, 'controller');
      } finally {
        await sub.close();
      }
      const metrics = await running.metrics.registry.metrics();
      assert.match(metrics, /meshflow_bus_connected 1/);
    });
  });
});

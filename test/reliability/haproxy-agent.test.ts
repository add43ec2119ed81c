// HAProxy fail-static against a real HAProxy: its servers take their weight from the meshflow
// agent (agent-check), which answers the bridge's weights while they are fresh and the configured
// weight once their ttl has passed. The bridge stops → after the ttl HAProxy's servers are even.
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { connectBus, HintPublisher } from '../../bridge/hints.ts';
import { Bridge } from '../../bridge/bridge.ts';
import { agentAnswer, HaproxyAgent, STATIC_ANSWER } from '../../bridge/adapters/haproxy-agent.ts';
import { readServers } from '../../bridge/adapters/haproxy.ts';
import { freePort } from '../../labs/ports.ts';
import { startMosquitto, type Service } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';
import { startReplica, type TestReplica } from '../bridge/support/replicas.ts';
import { inventoryCongestedRow, inventoryRegistry, startHaproxy } from '../bridge/support/haproxy.ts';

const TTL_MS = 1500;

const weightsOf = async (socket: string): Promise<string> => (await readServers(socket, 'inventory')).map((s) => `${s.name}=${s.weight}`).join(' ');

describe('reliability: HAProxy fail-static through the meshflow agent', function () {
  this.timeout(60_000);
  let replicas: TestReplica[] = [];
  let haproxy: { socket: string; stop(): Promise<void> } | undefined;
  let mosquitto: Service | undefined;
  let agent: HaproxyAgent | undefined;
  let agentBus: MqttClient | undefined;
  let bridge: Bridge | undefined;

  before(async () => {
    replicas = [await startReplica('inventory-a'), await startReplica('inventory-b')];
    mosquitto = await startMosquitto();
    agent = new HaproxyAgent({ sidecarId: 'web-2' });
    const agentPort = await agent.listen();
    agentBus = await connectBus(mosquitto.url);
    await agent.follow(agentBus);
    haproxy = await startHaproxy({ backend: 'inventory', servers: replicas.map((r) => ({ name: r.id, port: r.port })), frontendPort: await freePort(), agentPort });
  });

  after(async () => {
    await bridge?.stop();
    await haproxy?.stop();
    await agent?.close();
    await agentBus?.endAsync();
    await mosquitto?.stop();
    await Promise.all(replicas.map((r) => r.close()));
  });

  it('answers the weight in force as a share of the configured weight, and 100% without fresh weights', () => {
    const w = { byReplica: new Map([['a', 833], ['b', 167], ['c', 0], ['d', 1]]), expiresAt: 1000 };
    assert.equal(agentAnswer(w, 'a\n', 999), '83%\n');
    assert.equal(agentAnswer(w, 'inventory/b', 999), '17%\n');
    assert.equal(agentAnswer(w, 'c', 999), '0%\n');
    assert.equal(agentAnswer(w, 'd', 999), '1%\n');
    assert.equal(agentAnswer(w, 'unknown', 999), STATIC_ANSWER);
    assert.equal(agentAnswer(w, 'a', 1001), STATIC_ANSWER);
    assert.equal(agentAnswer(undefined, 'a', 0), STATIC_ANSWER);
  });

  it('weights applied through the agent; the bridge stops; after the ttl HAProxy is even again', async () => {
    const hp = haproxy!;
    const store = inventoryRegistry(hp.socket);
    bridge = new Bridge({ mqttUrl: mosquitto!.url, registry: store, tickMs: 100, weightsTtlMs: TTL_MS });
    await bridge.start();

    const client = await connectBus(mosquitto!.url);
    const controller = new HintPublisher(client, { source: 'test-controller' });
    await controller.publish(inventoryCongestedRow);
    // 833/167 of 1000 → 83% and 17% of the configured 100, set by HAProxy from the agent's answers.
    await waitFor('congestion weights in haproxy, from the agent', async () => (await weightsOf(hp.socket)) === 'inventory-a=83 inventory-b=17');
    await client.endAsync();

    // The bridge goes: nothing refreshes the weights (its retained hint stays on the broker, stale).
    await bridge.stop();
    bridge = undefined;
    const stoppedAt = Date.now();
    await waitFor('even weights in haproxy after the ttl', async () => (await weightsOf(hp.socket)) === 'inventory-a=100 inventory-b=100', { timeoutMs: 20_000 });
    console.log(`      even again ${Date.now() - stoppedAt} ms after the bridge stopped (ttl ${TTL_MS} ms, agent-inter 200 ms)`);
    assert.ok(agent!.counts.staticAnswers > 0);
  });
});

// The HAProxy adapter against a real HAProxy: a congestion cost row on the bus makes the
// bridge set weights over the runtime API, and `show servers state` reads them back.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connectBus, HintPublisher } from '../../bridge/hints.ts';
import { Bridge } from '../../bridge/bridge.ts';
import { readServers, toHaproxyWeight } from '../../bridge/adapters/haproxy.ts';
import { parseServersState } from '../../bridge/adapters/haproxy-socket.ts';
import { startBroker, type EmbeddedBroker } from '../../bus/broker.ts';
import { freePort } from '../../labs/ports.ts';
import { waitFor } from '../support/wait.ts';
import { inventoryCongestedRow, inventoryRegistry, startHaproxy, type TestHaproxy } from './support/haproxy.ts';
import { startReplica, type TestReplica } from './support/replicas.ts';


function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve((JSON.parse(Buffer.concat(chunks).toString()) as { replica: string }).replica));
    })
      .on('error', reject)
      .end();
  });
}

describe('bridge haproxy adapter (real HAProxy)', function () {
  this.timeout(30_000);
  let replicas: TestReplica[] = [];
  let haproxy: TestHaproxy | undefined;
  let broker: EmbeddedBroker | undefined;
  let bridge: Bridge | undefined;

  before(async () => {
    replicas = [await startReplica('inventory-a'), await startReplica('inventory-b')];
    haproxy = await startHaproxy({
      backend: 'inventory',
      servers: replicas.map((r) => ({ name: r.id, port: r.port })),
      frontendPort: await freePort(),
    });
    broker = await startBroker({ port: 0 });
  });

  after(async () => {
    await bridge?.stop();
    await haproxy?.stop();
    await broker?.stop();
    await Promise.all(replicas.map((r) => r.close()));
  });

  it('maps 0..1000 onto 0..256 without draining a live server', () => {
    assert.deepEqual([0, 1, 500, 833, 167, 1000].map(toHaproxyWeight), [0, 1, 128, 213, 43, 256]);
  });

  it('parses "show servers state" by its header', () => {
    const text = '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight\n3 web 1 a 127.0.0.1 2 0 17 100\n';
    assert.deepEqual(parseServersState(text), [{ name: 'a', weight: 17, initialWeight: 100, address: '127.0.0.1' }]);
  });

  it('sets the mapped weights after a congestion cost row, read back with show servers state', async () => {
    const hp = haproxy!;
    const store = inventoryRegistry(hp.socket);
    const before = await readServers(hp.socket, 'inventory');
    assert.deepEqual(before.map((s) => [s.name, s.weight]), [['inventory-a', 100], ['inventory-b', 100]]);

    bridge = new Bridge({ mqttUrl: broker!.urlFor('bridge'), registry: store, tickMs: 100 });
    await bridge.start();
    // No cost row yet: even weights, 500 each → 128.
    await waitFor('even weights in haproxy', async () =>
      (await readServers(hp.socket, 'inventory')).every((s) => s.weight === 128),
    );

    const client = await connectBus(broker!.urlFor('controller'));
    const controller = new HintPublisher(client, { source: 'test-controller' });
    await controller.publish(inventoryCongestedRow);
    // 833/167 of 1000 → 213/43 of 256
    const after = await waitFor('congestion weights in haproxy', async () => {
      const s = await readServers(hp.socket, 'inventory');
      return s.map((x) => x.weight).join() === '213,43' ? s : undefined;
    });
    assert.deepEqual(after.map((s) => [s.name, s.weight]), [['inventory-a', 213], ['inventory-b', 43]]);
    assert.deepEqual(bridge.currentWeights['web-2'], { inventory: { 'inventory-a': 833, 'inventory-b': 167 } });

    // And HAProxy really splits traffic that way (its weighted round robin is smooth too).
    const counts: Record<string, number> = {};
    for (let i = 0; i < 256; i++) {
      const id = await get(hp.frontendPort);
      counts[id] = (counts[id] ?? 0) + 1;
    }
    assert.ok(Math.abs((counts['inventory-a'] ?? 0) - 213) <= 3, JSON.stringify(counts));
    await client.endAsync();
  });
});

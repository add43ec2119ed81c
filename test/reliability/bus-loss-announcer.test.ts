// The announcer across bus outages, without sockets: a k=4 fat-tree's cost map, a stand-in MQTT
// client that goes down and comes back, and a virtual clock. On reconnect the status and every
// retained hint (link states, cost rows) go out again; a status overwritten by someone else is put
// back, at most once a second but never dropped; outages are counted once however many attempts.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import type { Controller } from '../../controller/controller.ts';
import type { Discovery } from '../../controller/topology/discovery.ts';
import type { Host, Link } from '../../controller/topology/types.ts';
import { Monitor } from '../../controller/monitor/monitor.ts';
import { Announcer } from '../../controller/announcer.ts';
import { ControllerMetrics } from '../../controller/api/metrics.ts';
import { HintPublisher } from '../../bus/publisher.ts';
import { VirtualClock } from '../../bus/clock.ts';
import { topics } from '../../bus/topics.ts';
import { fatTree } from '../../bench/fattree.ts';

class FakeDiscovery extends EventEmitter {
  links = new Map<string, Link>();
  hosts = new Map<string, Host>();
}

class FakeController extends EventEmitter {
  readonly switches = new Map<string, never>();
  readonly counters = { connections: 0, rejected: 0, malformed: 0 };
}

/** The slice of an mqtt.js client the announcer and the bus watch use, driven by the test. */
class FakeClient extends EventEmitter {
  connected = true;
  disconnecting = false;
  disconnected = false;
  readonly subscribed: string[] = [];
  async subscribeAsync(topic: string): Promise<void> {
    this.subscribed.push(topic);
  }
  drop(): void {
    this.connected = false;
    this.emit('close');
  }
  back(): void {
    this.connected = true;
    this.emit('connect', { sessionPresent: false });
  }
}

const host = (n: number, dpid: string): Host => ({ mac: `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`, ipv4: `10.0.0.${n}`, at: { dpid, port: 9 }, firstSeen: 0, lastSeen: 0 });

function setup() {
  const ft = fatTree(4, 1e9);
  const clock = new VirtualClock(1_700_000_000_000);
  const discovery = new FakeDiscovery();
  const controller = new FakeController();
  for (const l of ft.links) discovery.links.set(l.id, l);
  ft.edges.forEach((e, i) => discovery.hosts.set(`h${i}`, host(i + 1, e)));
  const monitor = new Monitor(controller as unknown as Controller, discovery as unknown as Discovery, { clock });
  const sent: { topic: string; payload: string }[] = [];
  const publisher = new HintPublisher({ publishAsync: async (topic: string, payload: string | Buffer) => void sent.push({ topic, payload: String(payload) }) } as never, { source: 'test', clock });
  const metrics = new ControllerMetrics(controller as unknown as Controller, { processMetrics: false });
  const announcer = new Announcer(controller as unknown as Controller, discovery as unknown as Discovery, monitor, { publisher, clock, metrics });
  announcer.start();
  monitor.start();
  const client = new FakeClient();
  const count = (prefix: string) => sent.filter((s) => s.topic.startsWith(prefix)).length;
  return { ft, clock, monitor, announcer, metrics, client, sent, count };
}

const STATUS = topics.controller('c1');

describe('reliability: the announcer across bus outages', () => {
  it('announces on attach, and on reconnect sends the status and every cost row again; one outage counts once', async () => {
    const { ft, monitor, announcer, metrics, client, count } = setup();
    await announcer.attachBus(client as unknown as MqttClient, { controllerId: 'c1', apiUrl: 'http://127.0.0.1:8080' });
    assert.equal(count(STATUS), 1);
    assert.deepEqual(client.subscribed, [STATUS]);
    const rows = count('meshflow/v1/costs/');
    client.drop();
    // Failed attempts close again: still one outage.
    client.emit('close');
    client.emit('close');
    client.back();
    assert.equal(count(STATUS), 2, 'status re-announced');
    assert.equal(count('meshflow/v1/costs/') - rows, ft.edges.length, 'every row sent again');
    // Read one series at a time: the stand-in controller has none of the session counters.
    const value = async (name: string) => (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;
    assert.equal(await value('meshflow_bus_disconnects_total'), 1);
    assert.equal(await value('meshflow_bus_reconnects_total'), 1);
    assert.equal(await value('meshflow_bus_connected'), 1);
    monitor.stop();
    announcer.stop();
    client.drop();
    client.back();
    assert.equal(count(STATUS), 2, 'nothing after stop');
  });

  it('puts its status back when another publisher overwrites it: at once, then at most once a second, the last word always its own', async () => {
    const { clock, monitor, announcer, client, sent, count } = setup();
    await announcer.attachBus(client as unknown as MqttClient, { controllerId: 'c1' });
    const own = sent.at(-1)!.payload;
    // Its own status coming back is no cause.
    client.emit('message', STATUS, Buffer.from(own));
    assert.equal(count(STATUS), 1);
    client.emit('message', STATUS, Buffer.from('{"forged":true}'));
    assert.equal(count(STATUS), 2, 'restored at once');
    client.emit('message', STATUS, Buffer.from('{"forged":2}'));
    client.emit('message', STATUS, Buffer.from('{"forged":3}'));
    assert.equal(count(STATUS), 2, 'held within the second');
    clock.advance(1000);
    assert.equal(count(STATUS), 3, 'one restore for the burst, once the second is over');
    const last = JSON.parse(sent.at(-1)!.payload) as { state: string; controllerId: string };
    assert.deepEqual([last.controllerId, last.state], ['c1', 'online']);
    monitor.stop();
    announcer.stop();
  });
});

// A persistent session (fixed client id, clean start off, QoS 1): hints published while the
// client was away are delivered when it comes back. On the embedded broker (MQTT 3.1.1) and on
// Mosquitto over MQTT 5 (session expiry).
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { startBroker, type EmbeddedBroker } from '../../bus/broker.ts';
import { connectBus, mqttOptions } from '../../bus/client.ts';
import type { Hint } from '../../bus/hints.ts';
import { HintPublisher } from '../../bus/publisher.ts';
import { subscribeHints } from '../../bus/subscriber.ts';
import { patterns } from '../../bus/topics.ts';
import { startMosquitto, type Service } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';
import { bodies } from './fixtures.ts';

describe('persistent bus session', function () {
  this.timeout(20_000);
  let broker: EmbeddedBroker;
  let mosq: Service;
  before(async () => {
    broker = await startBroker({ port: 0 });
    mosq = await startMosquitto();
  });
  after(async () => {
    await broker?.stop();
    await mosq?.stop();
  });

  it('sets clean: false, the client id and (MQTT 5) a session expiry', () => {
    const o = mqttOptions({ protocolVersion: 5, session: { clientId: 'meshflow-bridge', expirySec: 120 } });
    assert.equal(o.clean, false);
    assert.equal(o.clientId, 'meshflow-bridge');
    assert.equal(o.properties?.sessionExpiryInterval, 120);
  });

  for (const [name, url, version] of [
    ['embedded (MQTT 3.1.1)', () => broker.urlFor('bridge'), 4],
    ['mosquitto (MQTT 5)', () => mosq.url, 5],
  ] as const) {
    it(`delivers what was published while the client was away: ${name}`, async () => {
      const session = { clientId: `session-test-${version}` };
      const got: Hint[] = [];
      let client: MqttClient = await connectBus(url(), { session, protocolVersion: version });
      let sub = await subscribeHints(client, [patterns.events], (h) => void got.push(h));
      await client.endAsync();
      const controller = await connectBus(version === 4 ? broker.urlFor('controller') : mosq.url);
      const sent = await new HintPublisher(controller, { source: 'ctl' }).publish(bodies.event);
      await controller.endAsync();
      // The broker sends what it kept right after CONNACK: the handler must be in place first.
      client = await connectBus(url(), { session, protocolVersion: version, waitForConnect: false });
      try {
        sub = await subscribeHints(client, [patterns.events], (h) => void got.push(h));
        await waitFor('the event sent while away', () => got.some((h) => h.seq === sent?.seq && h.source === 'ctl'));
      } finally {
        await sub.close();
        await client.endAsync();
      }
    });
  }
});

// The stream carries what the mesh says on the bus too: sidecar weights published by the bridge on a
// real Mosquitto reach WebSocket clients of the controller, as they are on the bus.
import assert from 'node:assert/strict';
import { runController, type RunningController } from '../../controller/run.ts';
import { connectBus } from '../../bus/client.ts';
import { HintPublisher } from '../../bus/publisher.ts';
import { startMosquitto, type Service } from '../support/services.ts';
import { Inbox } from './inbox.ts';

describe('api: bus hints relayed to the stream', function () {
  this.timeout(30_000);
  let mosquitto: Service;
  let running: RunningController;

  before(async () => {
    mosquitto = await startMosquitto();
    running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, mqttUrl: mosquitto.url });
  });
  after(async () => {
    await running?.stop();
    await mosquitto?.stop();
  });

  it('forwards a weights hint from the bus to stream clients unchanged', async () => {
    const inbox = await Inbox.open(`${running.apiUrl.replace('http', 'ws')}/api/v1/stream`);
    const client = await connectBus(mosquitto.url, { clientId: 'relay-test-bridge' });
    try {
      const publisher = new HintPublisher(client, { source: 'bridge-test' });
      const sent = await publisher.publish({ kind: 'weights', sidecarId: 'sc-1', services: { api: { a: 700, b: 300 } } });
      const got = await inbox.next('weights', (m) => m.kind === 'weights' && m.sidecarId === 'sc-1');
      assert.deepEqual(got, sent);
    } finally {
      inbox.close();
      await client.endAsync();
    }
  });
});

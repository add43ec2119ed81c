// More than one broker: two Mosquittos bridged to each other (Mosquitto's `connection`), and a
// client given both URLs. It moves to B when A is stopped (by PID), still hears what was published
// on A's side and what is published on B, and moves back to A when B goes.
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { connectBus } from '../../bus/client.ts';
import type { Hint } from '../../bus/hints.ts';
import { HintPublisher } from '../../bus/publisher.ts';
import { subscribeHints, type HintSubscription } from '../../bus/subscriber.ts';
import { ALL_HINTS } from '../../bus/topics.ts';
import { freePort } from '../../labs/ports.ts';
import { waitFor } from '../support/wait.ts';
import { bodies } from './fixtures.ts';
import { startMosquittoWith, type Mosquitto } from './mosquitto.ts';

describe('several brokers (two bridged Mosquittos)', function () {
  this.timeout(60_000);
  let a: Mosquitto;
  let b: Mosquitto;
  const open: MqttClient[] = [];
  let sub: HintSubscription | undefined;
  const fast = { backoff: { initialMs: 50, maxMs: 200 } };

  before(async () => {
    const portA = await freePort();
    a = await startMosquittoWith({ port: portA, lines: ['listener %PORT% 127.0.0.1', 'allow_anonymous true'] });
    b = await startMosquittoWith({
      lines: [
        'listener %PORT% 127.0.0.1',
        'allow_anonymous true',
        // B dials A and carries the hint topics both ways, retained flags included.
        'connection to-a',
        `address 127.0.0.1:${portA}`,
        'topic meshflow/v1/# both 1',
        'cleansession true',
        'restart_timeout 1',
        'try_private true',
      ],
    });
  });
  after(async () => {
    await sub?.close();
    for (const c of open) c.end(true);
    await a?.stop();
    await b?.stop();
  });

  it('fails over to B and back, hearing hints from both sides', async () => {
    const urlA = `mqtt://127.0.0.1:${a.port}`;
    const urlB = `mqtt://127.0.0.1:${b.port}`;
    const onA = new HintPublisher(open[open.push(await connectBus(urlA, fast)) - 1] as MqttClient, { source: 'ctl-a' });
    const onB = new HintPublisher(open[open.push(await connectBus(urlB, fast)) - 1] as MqttClient, { source: 'ctl-b' });
    const client = await connectBus(`${urlA},${urlB}`, fast);
    open.push(client);
    assert.equal(client.options.port, a.port);
    const got: Hint[] = [];
    sub = await subscribeHints(client, [ALL_HINTS], (h) => void got.push(h));
    const heard = (from: HintPublisher, seq: number | undefined) => got.some((h) => h.source === from.source && h.seq === seq);

    // The bridge between the brokers comes up on its own schedule: publish on B until A's side hears it.
    await waitFor('a hint published on B, through the bridge', async () => heard(onB, (await onB.publish(bodies.event))?.seq));
    // A retained link state published on A's side, before A goes away.
    const linkOnA = await onA.publish(bodies.link_state);
    await waitFor('link state on A', () => heard(onA, linkOnA?.seq));
    const retainedOnB: Hint[] = [];
    const probe = await subscribeHints(urlB, [ALL_HINTS], (h, m) => void (m.retained && retainedOnB.push(h)));
    await waitFor("A's retained link state copied to B", () => retainedOnB.some((h) => h.source === 'ctl-a' && h.seq === linkOnA?.seq));
    await probe.close();

    await a.kill();
    await waitFor('client moved to B', () => client.connected && client.options.port === b.port);
    const before = got.length;
    const onBAfter = await onB.publish(bodies.cost_row);
    await waitFor('a hint published on B after the move', () => heard(onB, onBAfter?.seq));
    assert.ok(got.length > before);

    await a.restart();
    await b.kill();
    await waitFor('client back on A', () => client.connected && client.options.port === a.port);
    await waitFor('a hint published on A after the move back', async () => heard(onA, (await onA.publish(bodies.event).catch(() => undefined))?.seq));
  });
});

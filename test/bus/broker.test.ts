import assert from 'node:assert/strict';
import { startBroker, type EmbeddedBroker } from '../../bus/broker.ts';
import { connectBus } from '../../bus/client.ts';
import type { Hint } from '../../bus/hints.ts';
import { HintPublisher } from '../../bus/publisher.ts';
import { subscribeHints } from '../../bus/subscriber.ts';
import { ALL_HINTS, patterns } from '../../bus/topics.ts';
import { bodies } from './fixtures.ts';
import { until } from './support.ts';

describe('embedded broker (aedes)', () => {
  let broker: EmbeddedBroker;
  before(async () => {
    broker = await startBroker({ port: 0 });
  });
  after(async () => {
    await broker?.stop();
  });

  it('listens on 127.0.0.1 and round-trips a hint', async () => {
    assert.equal(broker.host, '127.0.0.1');
    assert.ok(broker.port > 0);
    const got: Hint[] = [];
    const sub = await subscribeHints(broker.url, [ALL_HINTS], (h) => void got.push(h));
    const client = await connectBus(broker.url);
    try {
      const sent = await new HintPublisher(client, { source: 'emb' }).publish(bodies.event);
      await until(() => got.length === 1, 'event through aedes');
      assert.deepEqual(got[0], sent);
    } finally {
      await sub.close();
      await client.endAsync();
    }
  });

  it('keeps retained hints for late subscribers', async () => {
    const client = await connectBus(broker.url);
    const sent = await new HintPublisher(client, { source: 'emb' }).publish(bodies.link_state);
    await client.endAsync();
    const got: Array<[Hint, boolean]> = [];
    const sub = await subscribeHints(broker.url, [patterns.links], (h, m) => void got.push([h, m.retained]));
    try {
      await until(() => got.length === 1, 'retained link state');
      assert.deepEqual(got[0], [sent, true]);
    } finally {
      await sub.close();
    }
  });

  it('stop() closes the port', async () => {
    const b = await startBroker({ port: 0 });
    await b.stop();
    await assert.rejects(connectBus(b.url, { connectTimeoutMs: 1000 }));
  });
});

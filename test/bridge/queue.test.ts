// The message-queue hop against a real RabbitMQ: the class becomes the message priority, so
// under a backlog the interactive class is served first; class and trace context arrive intact.
import assert from 'node:assert/strict';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { checkPriorities, consumeWork, declareWorkQueue, sendWork, type Work, type WorkQueueSettings } from '../../bridge/queue/queue.ts';
import { startRabbitmq } from '../support/rabbitmq.ts';
import type { Service } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';

describe('message-queue hop (RabbitMQ priority queue)', function () {
  this.timeout(120_000);
  let rabbit: Service;
  let conn: ChannelModel;
  let channel: ConfirmChannel;

  before(async () => {
    rabbit = await startRabbitmq();
    conn = await connect(rabbit.url);
    channel = await conn.createConfirmChannel();
  });
  after(async () => {
    await conn?.close().catch(() => undefined);
    await rabbit?.stop();
  });

  it('under a backlog, interactive work jumps the batch work queued before it', async () => {
    const settings: WorkQueueSettings = { queue: `meshflow-test-${process.pid}-backlog`, priorities: { interactive: 9, batch: 1 } };
    await declareWorkQueue(channel, settings);
    try {
      // The backlog: 40 batch pieces, then 5 interactive ones, all waiting before any worker runs.
      for (let i = 0; i < 40; i++) await sendWork(channel, settings, { cls: 'batch', body: Buffer.from(`b${i}`) });
      for (let i = 0; i < 5; i++) await sendWork(channel, settings, { cls: 'interactive', traceparent: `00-${'1'.repeat(32)}-${String(i).padStart(16, '0')}-01`, body: Buffer.from(`i${i}`) });
      const done: Work[] = [];
      const worker = await conn.createChannel();
      await consumeWork(worker, settings, 1, async (w) => {
        done.push(w);
      });
      await waitFor('all work done', () => done.length === 45);
      await worker.close();
      const order = done.map((w) => w.body.toString());
      // One worker, one piece at a time: the five interactive pieces come first, in their order.
      assert.deepEqual(order.slice(0, 5), ['i0', 'i1', 'i2', 'i3', 'i4']);
      assert.deepEqual(order.slice(5), Array.from({ length: 40 }, (_, i) => `b${i}`));
      assert.equal(done[0]?.cls, 'interactive');
      assert.equal(done[0]?.traceparent, `00-${'1'.repeat(32)}-${'0'.repeat(16)}-01`);
      assert.equal(done[5]?.cls, 'batch');
      assert.equal(done[5]?.traceparent, undefined);
    } finally {
      await channel.deleteQueue(settings.queue);
    }
  });

  it('work that fails goes back once and is then dropped, and the worker keeps going', async () => {
    const settings: WorkQueueSettings = { queue: `meshflow-test-${process.pid}-retry`, priorities: {} };
    await declareWorkQueue(channel, settings);
    try {
      await sendWork(channel, settings, { cls: 'default', body: Buffer.from('bad') });
      await sendWork(channel, settings, { cls: 'default', body: Buffer.from('good') });
      const seen: string[] = [];
      const worker = await conn.createChannel();
      await consumeWork(worker, settings, 1, async (w) => {
        seen.push(w.body.toString());
        if (w.body.toString() === 'bad') throw new Error('cannot do this');
      });
      await waitFor('both tries and the good piece', () => seen.filter((s) => s === 'bad').length === 2 && seen.includes('good'));
      await worker.close();
      // Nothing is left over: the failed piece was not put back a third time.
      assert.equal((await channel.checkQueue(settings.queue)).messageCount, 0);
      assert.equal(seen.filter((s) => s === 'bad').length, 2);
    } finally {
      await channel.deleteQueue(settings.queue);
    }
  });

  it('refuses a class map outside the queue\'s priority range', () => {
    assert.throws(() => checkPriorities({ interactive: 10 }), /priority of class "interactive" must be an integer 0..9/);
    assert.throws(() => checkPriorities({ batch: 1.5 }), /batch/);
  });
});

// The message-queue hop of the priority lab: service A hands each request's work to service B
// through RabbitMQ (bridge/queue/queue.ts: a priority queue, the class as the message priority, class
// and traceparent in the headers) and waits until B's consumer has done it; B's consumer takes at
// most `consumers` pieces at a time, so under a backlog the broker hands out the highest priority
// first. The reply is a job id on A's own reply queue. Used by labs/service.ts (--handoff-url on A,
// --consume-url on B).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Channel } from 'amqplib';
import { consumeWork, declareWorkQueue, sendWork, type WorkQueueSettings } from '../../bridge/queue/queue.ts';

interface Job {
  readonly id: string;
  readonly replyTo: string;
}

/** A's side: one connection, one exclusive reply queue, a waiter per job in flight. */
export class Handoff {
  private readonly waiting = new Map<string, () => void>();

  private constructor(
    private readonly channel: Channel,
    private readonly settings: WorkQueueSettings,
    private readonly replyTo: string,
    private readonly timeoutMs: number,
  ) {}

  static async open(url: string, settings: WorkQueueSettings, timeoutMs: number): Promise<Handoff> {
    const conn = await connect(url, { noDelay: true });
    const channel = await conn.createChannel();
    await declareWorkQueue(channel, settings);
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    const h = new Handoff(channel, settings, queue, timeoutMs);
    await channel.consume(queue, (msg) => msg && h.finished(msg.content.toString()), { noAck: true });
    return h;
  }

  private finished(id: string): void {
    const done = this.waiting.get(id);
    this.waiting.delete(id);
    done?.();
  }

  /** Resolves when B has done the work; rejects after the timeout (the job may still run later). */
  async hand(cls: string, traceparent: string | undefined): Promise<void> {
    const job: Job = { id: randomUUID(), replyTo: this.replyTo };
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve, reject) => {
      this.waiting.set(job.id, resolve);
      timer = setTimeout(() => reject(new Error(`no answer from the work queue in ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await sendWork(this.channel, this.settings, { cls, ...(traceparent ? { traceparent } : {}), body: Buffer.from(JSON.stringify(job)) });
      await done;
    } finally {
      clearTimeout(timer);
      this.waiting.delete(job.id);
    }
  }
}

/** B's side: `consumers` pieces at a time, `workMs` of simulated work each, then the job id back to its sender. */
export async function serveWork(url: string, settings: WorkQueueSettings, consumers: number, workMs: number): Promise<void> {
  const conn = await connect(url, { noDelay: true });
  const channel = await conn.createChannel();
  await declareWorkQueue(channel, settings);
  await consumeWork(channel, settings, consumers, async (work) => {
    await sleep(workMs);
    const job = JSON.parse(work.body.toString()) as Job;
    channel.sendToQueue(job.replyTo, Buffer.from(job.id));
  });
}

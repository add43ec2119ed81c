// The message-queue hop of the mesh: one service hands work to another through a RabbitMQ
// priority queue (x-max-priority), and the request's class becomes the message's priority, so
// under a backlog the interactive class is taken first. The class and the trace context ride in
// the message headers, as they ride in HTTP headers on the other hops.
import type { Channel, ConsumeMessage } from 'amqplib';
import { DEFAULT_CLASS, PRIORITY_HEADER, TRACEPARENT_HEADER } from '../sidecar/classify.ts';

/** RabbitMQ keeps one sub-queue per priority level; a few levels are all a class map needs. */
export const MAX_PRIORITY = 9;

export interface WorkQueueSettings {
  readonly queue: string;
  /** Message priority per class (0..MAX_PRIORITY); classes not listed get 0. */
  readonly priorities: Readonly<Record<string, number>>;
}

export interface Work {
  readonly cls: string;
  readonly traceparent?: string;
  readonly body: Buffer;
}

export class WorkQueueError extends Error {
  override name = 'WorkQueueError';
}

export function priorityOf(settings: WorkQueueSettings, cls: string): number {
  return settings.priorities[cls] ?? 0;
}

/** Checks a class map once, where it is configured. */
export function checkPriorities(priorities: Readonly<Record<string, number>>): void {
  for (const [cls, p] of Object.entries(priorities)) {
    if (!Number.isInteger(p) || p < 0 || p > MAX_PRIORITY) throw new WorkQueueError(`priority of class "${cls}" must be an integer 0..${MAX_PRIORITY}, not ${String(p)}`);
  }
}

/** Declares the queue (durable, priorities on); every producer and consumer calls it, so either may start first. */
export async function declareWorkQueue(channel: Channel, settings: WorkQueueSettings): Promise<void> {
  checkPriorities(settings.priorities);
  await channel.assertQueue(settings.queue, { durable: true, arguments: { 'x-max-priority': MAX_PRIORITY } });
}

/** Hands one piece of work on; resolves when the broker has taken it (publisher confirms). */
export async function sendWork(channel: Channel & { waitForConfirms?: () => Promise<void> }, settings: WorkQueueSettings, work: Work): Promise<void> {
  channel.sendToQueue(settings.queue, work.body, {
    persistent: true,
    priority: priorityOf(settings, work.cls),
    headers: { [PRIORITY_HEADER]: work.cls, ...(work.traceparent ? { [TRACEPARENT_HEADER]: work.traceparent } : {}) },
  });
  await channel.waitForConfirms?.();
}

export function workOf(msg: ConsumeMessage): Work {
  const headers = msg.properties.headers ?? {};
  const cls = typeof headers[PRIORITY_HEADER] === 'string' ? (headers[PRIORITY_HEADER] as string) : DEFAULT_CLASS;
  const traceparent = headers[TRACEPARENT_HEADER];
  return { cls, body: msg.content, ...(typeof traceparent === 'string' ? { traceparent } : {}) };
}

/**
 * Takes work with at most `concurrency` pieces unacknowledged: the broker then holds the rest
 * and hands out the highest priority first as each piece is done. Returns the consumer tag.
 */
export async function consumeWork(channel: Channel, settings: WorkQueueSettings, concurrency: number, handle: (work: Work) => Promise<void>): Promise<string> {
  await channel.prefetch(concurrency);
  const { consumerTag } = await channel.consume(settings.queue, (msg) => {
    if (msg === null) return;
    handle(workOf(msg)).then(
      () => channel.ack(msg),
      // A piece of work that failed goes back once; a second failure drops it (no poison loop).
      () => channel.nack(msg, false, !msg.fields.redelivered),
    );
  });
  return consumerTag;
}

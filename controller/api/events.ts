// GET /api/v1/events?since=&until=&limit=: the recorded event stream, read back from the event log.
// The log may live in Redis, which can be stopped or paused: a read that fails or does not answer
// in time is a 503 with the reason (and Retry-After), never a 500 and never a request left hanging.
import type { FastifyInstance } from 'fastify';
import type { EventSource } from '../../bus/eventlog/index.ts';
import { apiErrorSchema } from './errors.ts';

interface EventsQuery {
  readonly since?: number;
  readonly until?: number;
  readonly limit?: number;
}

export interface EventRoutesOptions {
  /** How long a read may take before the answer is 503 (default 1.5 s: a client hears within 2 s). */
  readonly readTimeoutMs?: number;
}

/** Why the store did not answer, for the 503 body. */
class StoreUnavailable extends Error {}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailable(`the event store did not answer within ${ms} ms`)), ms);
  });
  // A read that settles after the deadline is dropped; its rejection must not go unhandled.
  p.catch(() => undefined);
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export function eventRoutes(app: FastifyInstance, log: EventSource, opts: EventRoutesOptions = {}): void {
  const timeoutMs = opts.readTimeoutMs ?? 1500;
  app.get<{ Querystring: EventsQuery }>(
    '/api/v1/events',
    {
      schema: {
        summary: 'Recorded events (hints of kind event), oldest first',
        description: 'Answers 503 with the reason when the event store (Redis) is away or does not answer in time.',
        tags: ['monitor'],
        querystring: {
          type: 'object',
          properties: {
            since: { type: 'integer', minimum: 0, description: 'ms since epoch, inclusive' },
            until: { type: 'integer', minimum: 0, description: 'ms since epoch, inclusive' },
            limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
          },
          additionalProperties: false,
        },
        response: {
          200: { type: 'array', items: { type: 'object', additionalProperties: true, required: ['kind', 'ts', 'seq'] } },
          503: { description: 'The event store is away', ...apiErrorSchema },
        },
      },
    },
    async (req, reply) => {
      try {
        return await within(log.read(req.query), timeoutMs);
      } catch (err) {
        const why = err instanceof StoreUnavailable ? err.message : `the event store failed: ${(err as Error).message}`;
        return reply.code(503).header('retry-after', '5').send({ error: 'unavailable', message: why });
      }
    },
  );
}

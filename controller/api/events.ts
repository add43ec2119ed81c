// GET /api/v1/events?since=&until=&limit=: the recorded event stream, read back from the event log.
import type { FastifyInstance } from 'fastify';
import type { EventSource } from '../../bus/eventlog/index.ts';

interface EventsQuery {
  readonly since?: number;
  readonly until?: number;
  readonly limit?: number;
}

export function eventRoutes(app: FastifyInstance, log: EventSource): void {
  app.get<{ Querystring: EventsQuery }>(
    '/api/v1/events',
    {
      schema: {
        summary: 'Recorded events (hints of kind event), oldest first',
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
        },
      },
    },
    async (req) => log.read(req.query),
  );
}

// GET /api/v1/links: every direction of every link discovery knows, live or recently down.
// PUT and DELETE /api/v1/links/:id/capacity: a capacity set at run time for one direction, over
// every other source (controller/topology/capacity.ts), and taking it back.
import type { FastifyInstance } from 'fastify';
import type { Network } from '../routing/network.ts';
import { parseRate, type CapacitySource } from '../topology/capacity.ts';
import type { Endpoint, Link, LinkDownReason, LinkState } from '../topology/types.ts';
import { CAPACITY_SOURCES } from '../../bus/hints.ts';
import { apiErrorSchema, documentedOnly } from './errors.ts';

export interface LinkView {
  readonly id: string;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly capacityBps: number;
  readonly capacitySource: CapacitySource;
  readonly state: LinkState;
  readonly since: string;
  readonly lastSeen: string;
  readonly downReason?: LinkDownReason;
}

export function linkView(l: Link): LinkView {
  return {
    id: l.id,
    src: l.src,
    dst: l.dst,
    capacityBps: l.capacityBps,
    capacitySource: l.capacitySource ?? (l.capacityBps > 0 ? 'port' : 'none'),
    state: l.state,
    since: new Date(l.since).toISOString(),
    lastSeen: new Date(l.lastSeen).toISOString(),
    ...(l.downReason ? { downReason: l.downReason } : {}),
  };
}

// Response schemas document the route and drive serialization: a field added to the view goes here too.
export const endpointSchema = {
  type: 'object',
  properties: {
    dpid: { type: 'string', pattern: '^[0-9a-f]{16}$', description: 'datapath id, 16 lower-case hex digits' },
    port: { type: 'integer', minimum: 0, description: 'OpenFlow port number' },
  },
  required: ['dpid', 'port'],
} as const;

export const linkViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: '"<srcDpid>:<srcPort>-<dstDpid>:<dstPort>"' },
    src: endpointSchema,
    dst: endpointSchema,
    capacityBps: { type: 'number', minimum: 0, description: 'bit/s, from the source capacitySource names; 0: unknown (utilization is then reported as 0)' },
    capacitySource: {
      type: 'string',
      enum: [...CAPACITY_SOURCES],
      description: 'which source gave the capacity; precedence api > config (per port) > topology > tc (interface shaping) > config (--link-capacity) > port (OpenFlow curr_speed); none: unknown',
    },
    state: { type: 'string', enum: ['up', 'down'] },
    since: { type: 'string', format: 'date-time', description: 'when the link entered its state' },
    lastSeen: { type: 'string', format: 'date-time', description: 'the last LLDP frame that proved it' },
    downReason: { type: 'string', enum: ['expired', 'port_down', 'port_deleted', 'switch_down', 'replaced'] },
  },
  required: ['id', 'src', 'dst', 'capacityBps', 'capacitySource', 'state', 'since', 'lastSeen'],
} as const;

export function linkRoutes(app: FastifyInstance, network: Network): void {
  app.get(
    '/api/v1/links',
    {
      schema: {
        summary: 'Links found by LLDP, one entry per direction (down links stay listed for a minute)',
        tags: ['topology'],
        response: { 200: { type: 'array', items: linkViewSchema } },
      },
    },
    async () => [...network.discovery.links.values()].sort((a, b) => a.id.localeCompare(b.id)).map(linkView),
  );
  const params = { type: 'object', properties: { id: { type: 'string', examples: ['0000000000000001:2-0000000000000002:2'] } }, required: ['id'] } as const;
  const notFound = (id: string) => ({ error: 'not_found', message: `no link ${JSON.stringify(id)}` });

  app.put<{ Params: { id: string }; Body: unknown }>(
    '/api/v1/links/:id/capacity',
    {
      schema: {
        summary: 'Set the capacity of one link direction at run time, over every other source; the monitor uses it from its next poll',
        tags: ['topology'],
        params,
        body: capacityBodySchema,
        response: { 200: linkViewSchema, 400: apiErrorSchema, 404: apiErrorSchema },
      },
      validatorCompiler: documentedOnly,
    },
    async (req, reply) => {
      const link = network.discovery.links.get(req.params.id);
      if (link === undefined) return reply.code(404).send(notFound(req.params.id));
      const bps = capacityFromBody(req.body);
      if (typeof bps === 'string') return reply.code(400).send({ error: 'bad_request', message: bps });
      network.discovery.setCapacityOverride(link.src, bps);
      return linkView(network.discovery.links.get(link.id) ?? link);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/links/:id/capacity',
    {
      schema: {
        summary: 'Take back the capacity set at run time: the direction has the capacity the other sources give it',
        tags: ['topology'],
        params,
        response: { 200: linkViewSchema, 404: apiErrorSchema },
      },
    },
    async (req, reply) => {
      const link = network.discovery.links.get(req.params.id);
      if (link === undefined) return reply.code(404).send(notFound(req.params.id));
      network.discovery.setCapacityOverride(link.src, undefined);
      return linkView(network.discovery.links.get(link.id) ?? link);
    },
  );
}

const capacityBodySchema = {
  type: 'object',
  description: 'exactly one of bps and rate',
  properties: {
    bps: { type: 'number', exclusiveMinimum: 0, description: 'bit/s', examples: [8000000] },
    rate: { type: 'string', description: 'as tc writes rates: 8mbit, 800kbit, 1gbit', examples: ['8mbit'] },
  },
} as const;

/** bit/s from `{ "bps": 8000000 }` or `{ "rate": "8mbit" }`, or why the body is not usable. */
export function capacityFromBody(body: unknown): number | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be an object: { "bps": 8000000 } or { "rate": "8mbit" }';
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => k !== 'bps' && k !== 'rate');
  if (extra.length > 0) return `unknown field ${JSON.stringify(extra[0])}: give bps or rate`;
  if ((b.bps === undefined) === (b.rate === undefined)) return 'give exactly one of bps (bit/s) and rate ("8mbit")';
  if (b.bps !== undefined) {
    if (typeof b.bps !== 'number' || !Number.isFinite(b.bps) || b.bps <= 0) return `bps must be a number of bit/s above 0, got ${JSON.stringify(b.bps)}`;
    return b.bps;
  }
  if (typeof b.rate !== 'string') return `rate must be a string such as "8mbit", got ${JSON.stringify(b.rate)}`;
  try {
    return parseRate(b.rate);
  } catch (err) {
    return (err as Error).message;
  }
}

// GET /api/v1/links: every direction of every link discovery knows, live or recently down.
import type { FastifyInstance } from 'fastify';
import type { Network } from '../routing/network.ts';
import type { Endpoint, Link, LinkDownReason, LinkState } from '../topology/types.ts';

export interface LinkView {
  readonly id: string;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly capacityBps: number;
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
    capacityBps: { type: 'number', minimum: 0, description: 'from the topology file when given, else the port\'s current speed' },
    state: { type: 'string', enum: ['up', 'down'] },
    since: { type: 'string', format: 'date-time', description: 'when the link entered its state' },
    lastSeen: { type: 'string', format: 'date-time', description: 'the last LLDP frame that proved it' },
    downReason: { type: 'string', enum: ['expired', 'port_down', 'port_deleted', 'switch_down', 'replaced'] },
  },
  required: ['id', 'src', 'dst', 'capacityBps', 'state', 'since', 'lastSeen'],
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
}

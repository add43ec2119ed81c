// GET /api/v1/hosts: where each host is attached, as learned from its ARP and IPv4 at the edge.
import type { FastifyInstance } from 'fastify';
import type { Network } from '../routing/network.ts';
import type { Endpoint, Host } from '../topology/types.ts';

export interface HostView {
  readonly name?: string;
  readonly mac: string;
  readonly ipv4: string | null;
  readonly dpid: string;
  readonly port: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
}

export function hostView(h: Host, network: Network): HostView {
  const name = network.nameOf(h);
  const at: Endpoint = h.at;
  return {
    ...(name !== undefined ? { name } : {}),
    mac: h.mac,
    ipv4: h.ipv4 ?? null,
    dpid: at.dpid,
    port: at.port,
    firstSeen: new Date(h.firstSeen).toISOString(),
    lastSeen: new Date(h.lastSeen).toISOString(),
  };
}

export const hostViewSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', description: 'from the topology file, when the controller was given one' },
    mac: { type: 'string' },
    ipv4: { type: 'string', nullable: true },
    dpid: { type: 'string', pattern: '^[0-9a-f]{16}$' },
    port: { type: 'integer', minimum: 0 },
    firstSeen: { type: 'string', format: 'date-time' },
    lastSeen: { type: 'string', format: 'date-time' },
  },
  required: ['mac', 'ipv4', 'dpid', 'port', 'firstSeen', 'lastSeen'],
} as const;

export function hostRoutes(app: FastifyInstance, network: Network): void {
  app.get(
    '/api/v1/hosts',
    {
      schema: {
        summary: 'Hosts learned from ARP and IPv4 at edge ports, with where they are attached',
        tags: ['topology'],
        response: { 200: { type: 'array', items: hostViewSchema } },
      },
    },
    async () => [...network.discovery.hosts.values()].sort((a, b) => a.mac.localeCompare(b.mac)).map((h) => hostView(h, network)),
  );
}

// GET /api/v1/paths?src=&dst=: the path between two hosts, hop by hop with ports, as forwarding
// would choose it now. Hosts are named by name, IPv4 address or MAC.
import type { FastifyInstance } from 'fastify';
import type { Network } from '../routing/network.ts';
import type { Hop, HostPath } from '../routing/paths.ts';
import { hostView, hostViewSchema, type HostView } from './hosts.ts';
import { apiErrorSchema } from './errors.ts';

export interface PathView {
  readonly src: HostView;
  readonly dst: HostView;
  readonly ecmp: boolean;
  /** The path a flow without ports (a ping) takes. */
  readonly hops: readonly Hop[];
  readonly links: readonly string[];
  /** Every equal-cost path; with ECMP, TCP and UDP connections are spread over these. */
  readonly equalCostPaths: readonly { readonly hops: readonly Hop[]; readonly links: readonly string[] }[];
}

const view = (p: HostPath): { hops: readonly Hop[]; links: readonly string[] } => ({ hops: p.hops, links: p.linkIds });

export const hopSchema = {
  type: 'object',
  properties: {
    dpid: { type: 'string', pattern: '^[0-9a-f]{16}$' },
    inPort: { type: 'integer', minimum: 0 },
    outPort: { type: 'integer', minimum: 0 },
  },
  required: ['dpid', 'inPort', 'outPort'],
} as const;
const pathSchema = {
  type: 'object',
  properties: { hops: { type: 'array', items: hopSchema }, links: { type: 'array', items: { type: 'string' } } },
  required: ['hops', 'links'],
} as const;
const hostParam = { type: 'string', description: 'host name (from the topology file), IPv4 address or MAC' } as const;

export function pathRoutes(app: FastifyInstance, network: Network): void {
  app.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    '/api/v1/paths',
    {
      schema: {
        summary: 'The path between two hosts, hop by hop with ports',
        tags: ['topology'],
        // Not "required" here: missing or odd parameters get this route's own 400 with a message.
        querystring: { type: 'object', properties: { src: hostParam, dst: hostParam } },
        response: {
          200: {
            type: 'object',
            properties: {
              src: hostViewSchema,
              dst: hostViewSchema,
              ecmp: { type: 'boolean' },
              hops: { type: 'array', items: hopSchema, description: 'the path a flow without ports (a ping) takes' },
              links: { type: 'array', items: { type: 'string' } },
              equalCostPaths: { type: 'array', items: pathSchema, description: 'with ECMP, TCP and UDP flows spread over these' },
            },
            required: ['src', 'dst', 'ecmp', 'hops', 'links', 'equalCostPaths'],
          },
          400: apiErrorSchema,
          404: apiErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const params = { src: req.query.src, dst: req.query.dst };
      for (const [name, value] of Object.entries(params)) {
        if (value === undefined || value === '') {
          return reply.code(400).send({ error: 'bad_request', message: `query parameter "${name}" is required: a host name, IPv4 address or MAC` });
        }
        if (typeof value !== 'string') return reply.code(400).send({ error: 'bad_request', message: `query parameter "${name}" given more than once` });
        if (!network.isHostSyntax(value)) {
          return reply.code(400).send({ error: 'bad_request', message: `${name}=${JSON.stringify(value)} is neither a host name, an IPv4 address (a.b.c.d) nor a MAC address (aa:bb:cc:dd:ee:ff)` });
        }
      }
      const srcText = params.src as string;
      const dstText = params.dst as string;
      const src = network.findHost(srcText);
      const dst = network.findHost(dstText);
      if (src === undefined || dst === undefined) {
        const which = src === undefined ? srcText : dstText;
        return reply.code(404).send({ error: 'unknown_host', message: `no host ${JSON.stringify(which)} has been seen on the network (hosts are learned from their traffic)` });
      }
      const answer = network.forwarding.pathBetween(src, dst);
      if (answer === undefined) {
        return reply.code(404).send({ error: 'no_path', message: `no path from ${srcText} to ${dstText} over the links that are up` });
      }
      const body: PathView = {
        src: hostView(src, network),
        dst: hostView(dst, network),
        ecmp: network.forwarding.opts.ecmp,
        hops: answer.chosen.hops,
        links: answer.chosen.linkIds,
        equalCostPaths: answer.candidates.map(view),
      };
      return body;
    },
  );
}

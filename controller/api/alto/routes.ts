// The ALTO server (RFC 7285) beside the REST API: GET /alto (the directory), /alto/networkmap,
// /alto/costmap/<metric>, and POST /alto/costmap/filtered. Each request builds its document from the
// cost map and the host table as they are at that moment (documents.ts); nothing is kept between
// requests, so the server adds no work to polls or topology events.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CostMapView } from '../../monitor/costmap.ts';
import { accepts, MEDIA, type MediaType } from './media.ts';
import {
  ALTO_ROOT,
  costMapData,
  costMapDocument,
  directoryDocument,
  METRICS,
  networkMapData,
  networkMapDocument,
  PidNames,
  UTILIZATION_METRIC,
  type AttachedHost,
  type Metric,
  type NetworkMapDocument,
} from './documents.ts';
import { parseFilterRequest, type AltoErrorMeta } from './filter.ts';
import { apiErrorSchema, documentedOnly, type ApiError } from '../errors.ts';

export interface AltoSources {
  readonly costMap: CostMapView;
  /** The hosts known now, with where they are attached (the discovery's host table). */
  hosts(): Iterable<AttachedHost>;
}

const anyObject = { type: 'object', additionalProperties: true } as const;
const versionTag = {
  type: 'object',
  properties: { 'resource-id': { type: 'string' }, tag: { type: 'string' } },
  required: ['resource-id', 'tag'],
} as const;
const costTypeSchema = {
  type: 'object',
  properties: { 'cost-mode': { type: 'string', enum: ['numerical', 'ordinal'] }, 'cost-metric': { type: 'string' }, description: { type: 'string' } },
  required: ['cost-mode', 'cost-metric'],
} as const;

const directorySchema = {
  type: 'object',
  properties: {
    meta: {
      type: 'object',
      properties: { 'cost-types': { type: 'object', additionalProperties: costTypeSchema }, 'default-alto-network-map': { type: 'string' } },
      required: ['cost-types', 'default-alto-network-map'],
    },
    resources: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          uri: { type: 'string' },
          'media-type': { type: 'string' },
          accepts: { type: 'string' },
          capabilities: anyObject,
          uses: { type: 'array', items: { type: 'string' } },
        },
        required: ['uri', 'media-type'],
      },
    },
  },
  required: ['meta', 'resources'],
} as const;

const networkMapSchema = {
  type: 'object',
  properties: {
    meta: { type: 'object', properties: { vtag: versionTag }, required: ['vtag'] },
    'network-map': {
      type: 'object',
      description: 'PID name → endpoint addresses by type; a PID is a switch with hosts (named by its dpid), plus "default" with 0.0.0.0/0',
      additionalProperties: { type: 'object', properties: { ipv4: { type: 'array', items: { type: 'string' } } } },
    },
  },
  required: ['meta', 'network-map'],
} as const;

const costMapSchema = {
  type: 'object',
  properties: {
    meta: {
      type: 'object',
      properties: { vtag: versionTag, 'dependent-vtags': { type: 'array', items: versionTag }, 'cost-type': costTypeSchema },
      required: ['dependent-vtags', 'cost-type'],
    },
    'cost-map': {
      type: 'object',
      description: 'source PID → destination PID → cost; unreachable pairs are left out',
      additionalProperties: { type: 'object', additionalProperties: { type: 'number' } },
    },
  },
  required: ['meta', 'cost-map'],
} as const;

const altoErrorSchema = {
  type: 'object',
  properties: {
    meta: {
      type: 'object',
      properties: {
        code: { type: 'string', enum: ['E_SYNTAX', 'E_MISSING_FIELD', 'E_INVALID_FIELD_TYPE', 'E_INVALID_FIELD_VALUE'] },
        field: { type: 'string' },
        value: { type: 'string' },
        'syntax-error': { type: 'string' },
      },
      required: ['code'],
    },
  },
  required: ['meta'],
} as const;

const filterSchema = {
  type: 'object',
  properties: {
    'cost-type': costTypeSchema,
    constraints: { type: 'array', items: { type: 'string', examples: ['le 3'] }, description: '"gt", "lt", "ge", "le" or "eq", a space, a number; all must hold' },
    pids: {
      type: 'object',
      properties: { srcs: { type: 'array', items: { type: 'string' } }, dsts: { type: 'array', items: { type: 'string' } } },
      required: ['srcs', 'dsts'],
      description: 'an empty list means every PID; unknown PIDs are ignored',
    },
  },
  required: ['cost-type'],
} as const;

const ok = (media: MediaType, schema: object, description: string) => ({ description, content: { [media]: { schema } } });
const notAcceptable = { description: 'the Accept header allows neither this media type nor */*', content: { 'application/json': { schema: apiErrorSchema } } };

/** 406 unless Accept allows the media type; RFC 7285 defines no error code for it, so the body is the API's own. */
function refuseUnacceptable(reply: FastifyReply, accept: string | undefined, media: MediaType): boolean {
  if (accepts(accept, media)) return false;
  void reply
    .code(406)
    .type('application/json')
    .send({ error: 'not_acceptable', message: `this resource is ${media}; accept it (or */*) in the Accept header` } satisfies ApiError);
  return true;
}

function altoError(reply: FastifyReply, meta: AltoErrorMeta): FastifyReply {
  return reply.code(400).type(MEDIA.error).send({ meta });
}

export function altoRoutes(app: FastifyInstance, sources: AltoSources): void {
  // A plugin of its own, so that its body parser (only ALTO's filter type) stays with these routes.
  void app.register(async (alto) => {
    alto.removeAllContentTypeParsers();
    alto.addContentTypeParser(MEDIA.costMapFilter, { parseAs: 'string' }, (_req, body, done) => done(null, body));
    const view = sources.costMap;
    // Cost map vtags are the view's version, prefixed per process so a restart never reuses one.
    const epoch = randomBytes(4).toString('hex');

    /** One consistent reading: the PIDs, their ALTO names and the network map they make. */
    const read = (): { names: PidNames; networkMap: NetworkMapDocument } => {
      const pids = view.pids();
      const names = new PidNames(pids);
      return { names, networkMap: networkMapDocument(networkMapData(pids, sources.hosts(), names)) };
    };

    alto.get(
      ALTO_ROOT,
      {
        schema: {
          summary: 'ALTO information resource directory (RFC 7285 §9.2): the network map and cost maps this controller serves',
          tags: ['alto'],
          response: { 200: ok(MEDIA.directory, directorySchema, 'the directory'), 406: notAcceptable },
        },
      },
      async (req, reply) => {
        if (refuseUnacceptable(reply, req.headers.accept, MEDIA.directory)) return reply;
        return reply.type(MEDIA.directory).send(directoryDocument());
      },
    );

    alto.get(
      `${ALTO_ROOT}/networkmap`,
      {
        schema: {
          summary: "ALTO network map (RFC 7285 §11.2.1): one PID per switch with hosts, holding its hosts' IPv4 addresses as /32",
          tags: ['alto'],
          response: { 200: ok(MEDIA.networkMap, networkMapSchema, 'the network map; meta.vtag changes when PIDs or their hosts do'), 406: notAcceptable },
        },
      },
      async (req, reply) => {
        if (refuseUnacceptable(reply, req.headers.accept, MEDIA.networkMap)) return reply;
        return reply.type(MEDIA.networkMap).send(JSON.stringify(read().networkMap));
      },
    );

    const costMapRoute = (m: Metric): void => {
      // The last text served, until the costs or the network map move: clients polling the full
      // map between two polls of the monitor cost one network map, not a whole cost map each.
      let cached: { key: string; text: string } | undefined;
      alto.get(
        m.uri,
        {
          schema: {
            summary: `ALTO cost map (RFC 7285 §11.2.3), ${m.costType['cost-mode']} ${m.costType['cost-metric']}: ${m.costType.description ?? ''}`,
            tags: ['alto'],
            response: { 200: ok(MEDIA.costMap, costMapSchema, 'the cost map, tied to the network map by meta.dependent-vtags'), 406: notAcceptable },
          },
        },
        async (req, reply) => {
          if (refuseUnacceptable(reply, req.headers.accept, MEDIA.costMap)) return reply;
          const version = view.version;
          const { names, networkMap } = read();
          const key = `${version} ${networkMap.meta.vtag.tag}`;
          if (cached?.key !== key) {
            const vtag = { 'resource-id': m.resourceId, tag: `${epoch}-${version}` };
            cached = { key, text: JSON.stringify(costMapDocument(m, networkMap.meta.vtag, costMapData(view, m, names), vtag)) };
          }
          // Text goes out as it is (the schema above documents it): JSON.stringify is several times
          // faster than a schema serializer on maps keyed by PID, 262,144 pairs at k=32.
          return reply.type(MEDIA.costMap).send(cached.text);
        },
      );
    };
    for (const m of METRICS) costMapRoute(m);

    alto.post(
      `${ALTO_ROOT}/costmap/filtered`,
      {
        schema: {
          summary: 'ALTO filtered cost map (RFC 7285 §11.3.2): chosen source and destination PIDs, one cost type, optional constraints',
          description: `Cost types: numerical routingcost (hops) and numerical ${UTILIZATION_METRIC}. Errors are application/alto-error+json.`,
          tags: ['alto'],
          body: { content: { [MEDIA.costMapFilter]: { schema: filterSchema } } },
          response: {
            200: ok(MEDIA.costMap, costMapSchema, 'the cost map restricted to the pairs asked for'),
            400: { description: 'E_SYNTAX, E_MISSING_FIELD, E_INVALID_FIELD_TYPE or E_INVALID_FIELD_VALUE', content: { [MEDIA.error]: { schema: altoErrorSchema } } },
            406: notAcceptable,
          },
        },
        validatorCompiler: documentedOnly,
      },
      async (req, reply) => {
        if (refuseUnacceptable(reply, req.headers.accept, MEDIA.costMap)) return reply;
        const parsed = parseFilterRequest(typeof req.body === 'string' ? req.body : '');
        if (!parsed.ok) return altoError(reply, parsed.error);
        const { metric, constraints, srcs, dsts } = parsed.request;
        const { names, networkMap } = read();
        const known = (list: readonly string[]): string[] => list.flatMap((n) => names.pid(n) ?? []);
        const data = costMapData(view, metric, names, {
          ...(srcs.length > 0 ? { srcs: known(srcs) } : {}),
          ...(dsts.length > 0 ? { dsts: new Set(known(dsts)) } : {}),
          constraints,
        });
        return reply.type(MEDIA.costMap).send(JSON.stringify(costMapDocument(metric, networkMap.meta.vtag, data)));
      },
    );
  });
}


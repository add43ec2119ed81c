// /api/v1/intents: ask the network for something about one class of traffic (a path policy, a
// priority mark), see what it chose and whether it still holds, and take the request back.
// The body schema documents the route; the intents service checks bodies itself (strictly, with
// messages that name the field), so fastify's own coercing validation is switched off here.
import type { FastifyInstance } from 'fastify';
import type { IntentService } from '../intents/service.ts';
import { intentRequestSchema } from '../intents/request.ts';
import { intentView } from '../intents/view.ts';
import { POLICIES, PRIORITIES } from '../intents/types.ts';
import { hopSchema } from './paths.ts';
import { apiErrorSchema, documentedOnly } from './errors.ts';
import type { RoleView } from './switches.ts';

const strings = { type: 'array', items: { type: 'string' } } as const;

export const intentViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    src: { type: 'string' },
    dst: { type: 'string' },
    policy: { type: 'string', enum: [...POLICIES] },
    ipProto: { type: 'integer' },
    srcPort: { type: 'integer' },
    dstPort: { type: 'integer' },
    avoidLinks: strings,
    explicitPath: { ...strings, description: "the switches an explicit intent asked for (the request's path)" },
    priority: { type: 'string', enum: [...PRIORITIES] },
    dscp: { type: 'integer', minimum: 0, maximum: 63 },
    srcIpv4: { type: 'string' },
    dstIpv4: { type: 'string' },
    state: { type: 'string', enum: ['active', 'unsatisfiable'] },
    reason: { type: 'string', description: 'why the intent is unsatisfiable, or why it last moved' },
    path: { type: 'array', items: hopSchema, description: 'hops src → dst with ports; empty while unsatisfiable' },
    links: strings,
    switches: strings,
    reversePath: { type: 'array', items: hopSchema, description: 'hops of the replies, dst → src, over the same cables' },
    reverseLinks: strings,
    cookie: { type: 'string', description: 'every rule of the intent has (cookie & cookieMask) == cookie' },
    cookieMask: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    movedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'src', 'dst', 'policy', 'srcIpv4', 'dstIpv4', 'state', 'path', 'links', 'switches', 'reversePath', 'reverseLinks', 'cookie', 'cookieMask', 'createdAt', 'movedAt'],
} as const;

const idParams = { type: 'object', properties: { id: { type: 'string', examples: ['i1'] } }, required: ['id'] } as const;

/**
 * In a group only the controller that speaks for it keeps intents (cluster/intents.ts): one asked
 * elsewhere would hold rules it cannot write and a record the group never sees, so it says so and
 * a client tries the group's next controller.
 */
function notTheVoice(roles: RoleView | undefined): { error: string; message: string } | undefined {
  if (roles === undefined || roles.voice !== undefined) return undefined;
  return { error: 'not_voice', message: `controller ${roles.settings.controllerId} does not speak for its group now: ask the controller that does` };
}

export function intentRoutes(app: FastifyInstance, intents: IntentService, roles?: RoleView): void {
  app.post(
    '/api/v1/intents',
    {
      schema: {
        summary: 'Ask for a path policy and/or a priority mark for one class of traffic between two hosts',
        tags: ['intents'],
        body: intentRequestSchema,
        response: { 201: intentViewSchema, 400: apiErrorSchema, 409: apiErrorSchema },
      },
      validatorCompiler: documentedOnly,
    },
    async (req, reply) => {
      const elsewhere = notTheVoice(roles);
      if (elsewhere) return reply.code(409).send(elsewhere);
      const r = intents.create(req.body);
      if (!r.ok) return reply.code(r.status).send({ error: r.error, message: r.message, ...(r.id !== undefined ? { id: r.id } : {}) });
      // Answer once the rules are in: a client may send the class's traffic as soon as it hears back.
      await intents.settled();
      return reply.code(201).send(intentView(intents.get(r.intent.id) ?? r.intent));
    },
  );

  app.get(
    '/api/v1/intents',
    {
      schema: {
        summary: 'Every intent with its current path and state (active, or unsatisfiable while no path exists)',
        tags: ['intents'],
        response: { 200: { type: 'array', items: intentViewSchema } },
      },
    },
    async () => intents.list().map(intentView),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/intents/:id',
    {
      schema: { summary: 'One intent with its current path and state', tags: ['intents'], params: idParams, response: { 200: intentViewSchema, 404: apiErrorSchema } },
    },
    async (req, reply) => {
      const r = intents.get(req.params.id);
      if (r === undefined) return reply.code(404).send({ error: 'not_found', message: `no intent ${JSON.stringify(req.params.id)}` });
      return intentView(r);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/intents/:id',
    {
      schema: {
        summary: 'Withdraw an intent: its rules are deleted from every switch it touched',
        tags: ['intents'],
        params: idParams,
        response: { 204: { type: 'null', description: 'deleted, rules removed' }, 404: apiErrorSchema, 409: apiErrorSchema },
      },
    },
    async (req, reply) => {
      const elsewhere = notTheVoice(roles);
      if (elsewhere) return reply.code(409).send(elsewhere);
      if (!intents.remove(req.params.id)) return reply.code(404).send({ error: 'not_found', message: `no intent ${JSON.stringify(req.params.id)}` });
      await intents.settled();
      return reply.code(204).send();
    },
  );
}

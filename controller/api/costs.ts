// GET /api/v1/costs and /api/v1/costs/<pid>: the cost map over REST. The bus carries small rows;
// here a reader can also ask for one destination and for the equal-cost paths behind an entry
// (link ids in order), which are too big for every retained message.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CostEntry, CostMapView } from '../monitor/costmap.ts';
import { apiErrorSchema, documentedOnly, type ApiError } from './errors.ts';

/** Paths per destination when `?paths=true`; the cost map's own default. */
export const DEFAULT_PATH_LIMIT = 16;
/** A fat-tree with k=32 has (k/2)^2 = 256 equal-cost paths between pods. */
export const MAX_PATH_LIMIT = 256;

export interface CostEntryView extends CostEntry {
  /** Only with ?paths: every equal-cost path as link ids, up to the limit. */
  readonly equalCostPaths?: readonly (readonly string[])[];
}

export interface CostSummary {
  readonly pids: number;
  /** Ordered (source, destination) pairs of distinct pids. */
  readonly pairs: number;
  readonly unreachablePairs: number;
  /** Pairs by the level of their best path. */
  readonly levels: Readonly<Record<'ok' | 'warning' | 'congested' | 'down', number>>;
  /** Pairs with more than one equal-cost path. */
  readonly multipathPairs: number;
  readonly maxHops: number;
  /** The highest best-path bottleneck utilization of any pair: how loaded the least bad choice can get. */
  readonly maxBottleneckUtilization: number;
}

/** One pass over every row; a read asks for it, never an event, so O(pids²) here is the price of the answer. */
export function summarize(view: CostMapView): CostSummary {
  const pids = view.pids();
  const levels = { ok: 0, warning: 0, congested: 0, down: 0 };
  let pairs = 0;
  let unreachablePairs = 0;
  let multipathPairs = 0;
  let maxHops = 0;
  let maxBottleneckUtilization = 0;
  for (const src of pids) {
    for (const e of view.row(src) ?? []) {
      if (e.dstPid === src) continue;
      pairs++;
      levels[e.level]++;
      if (e.paths === 0) {
        unreachablePairs++;
        continue;
      }
      if (e.paths > 1) multipathPairs++;
      maxHops = Math.max(maxHops, e.hops);
      maxBottleneckUtilization = Math.max(maxBottleneckUtilization, e.bottleneckUtilization);
    }
  }
  return { pids: pids.length, pairs, unreachablePairs, levels, multipathPairs, maxHops, maxBottleneckUtilization };
}

const levelSchema = { type: 'string', enum: ['ok', 'warning', 'congested', 'down'] } as const;
const pidSchema = { type: 'string', description: 'an attachment point: the dpid of a switch with hosts', examples: ['0000000000000001'] } as const;

export const costEntrySchema = {
  type: 'object',
  properties: {
    dstPid: pidSchema,
    hops: { type: 'integer', minimum: 0, description: 'links on each shortest path (0 when unreachable)' },
    paths: { type: 'integer', minimum: 0, description: 'how many equal-cost shortest paths there are (0 when unreachable)' },
    bottleneckUtilization: { type: 'number', minimum: 0, description: 'the best path: min over paths of the max link utilization' },
    availableBps: { type: 'number', minimum: 0, description: 'the best path: max over paths of the min link room, bit/s' },
    worstUtilization: { type: 'number', minimum: 0, description: 'the most loaded path: max over paths of the max link utilization' },
    worstAvailableBps: { type: 'number', minimum: 0, description: 'the most loaded path: min over paths of the min link room, bit/s' },
    aggregateBps: { type: 'number', minimum: 0, description: 'room of the whole equal-cost set: the smallest total room of any hop layer' },
    level: levelSchema,
    worstLevel: levelSchema,
    queueDelayMs: { type: 'number', minimum: 0, description: 'with delay probes: the least queueing delay (ms) of any equal-cost path, each the sum over its links' },
    equalCostPaths: {
      type: 'array',
      items: { type: 'array', items: { type: 'string' } },
      description: 'only with ?paths: each equal-cost path as link ids in order, up to the limit',
    },
  },
  required: ['dstPid', 'hops', 'paths', 'bottleneckUtilization', 'availableBps', 'worstUtilization', 'worstAvailableBps', 'aggregateBps', 'level', 'worstLevel'],
} as const;

const levelCounts = {
  type: 'object',
  properties: { ok: { type: 'integer' }, warning: { type: 'integer' }, congested: { type: 'integer' }, down: { type: 'integer' } },
  required: ['ok', 'warning', 'congested', 'down'],
} as const;

const summarySchema = {
  type: 'object',
  properties: {
    pids: { type: 'integer', minimum: 0 },
    pairs: { type: 'integer', minimum: 0 },
    unreachablePairs: { type: 'integer', minimum: 0 },
    levels: { ...levelCounts, description: 'pairs by the level of their best path' },
    multipathPairs: { type: 'integer', minimum: 0, description: 'pairs with more than one equal-cost path' },
    maxHops: { type: 'integer', minimum: 0 },
    maxBottleneckUtilization: { type: 'number', minimum: 0 },
  },
  required: ['pids', 'pairs', 'unreachablePairs', 'levels', 'multipathPairs', 'maxHops', 'maxBottleneckUtilization'],
} as const;

type Query = Record<string, string | string[] | undefined>;

/** `paths` absent, false or 0: no paths; true: the default limit; N: up to N. */
export function parsePathsParam(value: string | string[] | undefined): { ok: true; limit: number } | { ok: false; message: string } {
  if (value === undefined || value === '' || value === 'false' || value === '0') return { ok: true, limit: 0 };
  if (typeof value !== 'string') return { ok: false, message: 'query parameter "paths" given more than once' };
  if (value === 'true') return { ok: true, limit: DEFAULT_PATH_LIMIT };
  if (/^[0-9]+$/.test(value)) {
    const n = Number(value);
    if (n <= MAX_PATH_LIMIT) return { ok: true, limit: n };
  }
  return { ok: false, message: `paths=${JSON.stringify(value)} must be true, false or a number of paths from 0 to ${MAX_PATH_LIMIT}` };
}

function bad(reply: FastifyReply, field: string, message: string): FastifyReply {
  return reply.code(400).send({ error: 'bad_request', message, field } satisfies ApiError);
}

function withPaths(view: CostMapView, src: string, e: CostEntry, limit: number): CostEntryView {
  if (limit === 0) return e;
  return { ...e, equalCostPaths: e.paths === 0 ? [] : view.paths(src, e.dstPid, limit) };
}

export function costRoutes(app: FastifyInstance, view: CostMapView): void {
  app.get(
    '/api/v1/costs',
    {
      schema: {
        summary: 'The cost map: its attachment points (pids) and a summary of every pair',
        description: 'Each pid is a switch with hosts. GET /api/v1/costs/{pid} gives one row; /alto serves the same map to ALTO (RFC 7285) clients.',
        tags: ['costs'],
        response: {
          200: {
            type: 'object',
            properties: {
              version: { type: 'integer', minimum: 0, description: 'changes whenever the structure or any figure changes' },
              pids: { type: 'array', items: pidSchema },
              summary: summarySchema,
            },
            required: ['version', 'pids', 'summary'],
          },
        },
      },
    },
    async () => ({ version: view.version, pids: view.pids(), summary: summarize(view) }),
  );

  app.get<{ Params: { pid: string }; Querystring: Query }>(
    '/api/v1/costs/:pid',
    {
      schema: {
        summary: 'One row of the cost map: the cost from this pid to every other, optionally with the equal-cost paths',
        tags: ['costs'],
        params: { type: 'object', properties: { pid: pidSchema }, required: ['pid'] },
        querystring: {
          type: 'object',
          properties: {
            paths: { type: 'string', description: `true (up to ${DEFAULT_PATH_LIMIT}) or a number up to ${MAX_PATH_LIMIT}: add each destination's equal-cost paths as link-id lists` },
            dst: { ...pidSchema, description: 'only this destination pid' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              src: pidSchema,
              version: { type: 'integer', minimum: 0 },
              entries: { type: 'array', items: costEntrySchema },
            },
            required: ['src', 'version', 'entries'],
          },
          400: apiErrorSchema,
          404: apiErrorSchema,
        },
      },
      validatorCompiler: documentedOnly,
    },
    async (req, reply) => {
      const paths = parsePathsParam(req.query.paths);
      if (!paths.ok) return bad(reply, '/paths', paths.message);
      const dst = req.query.dst;
      if (dst !== undefined && typeof dst !== 'string') return bad(reply, '/dst', 'query parameter "dst" given more than once');
      if (dst === '') return bad(reply, '/dst', 'query parameter "dst" is empty: give a destination pid or leave it out');
      const src = req.params.pid;
      const version = view.version;
      const row = view.row(src);
      if (row === undefined) {
        return reply.code(404).send({ error: 'unknown_pid', message: `no attachment point ${JSON.stringify(src)} in the cost map (GET /api/v1/costs lists them)` } satisfies ApiError);
      }
      if (dst === undefined) return { src, version, entries: row.map((e) => withPaths(view, src, e, paths.limit)) };
      const entry = view.entry(src, dst);
      if (entry === undefined) {
        const known = view.row(dst) !== undefined;
        return reply.code(404).send({
          error: known ? 'no_entry' : 'unknown_pid',
          message: known ? `the row of ${src} has no entry for ${dst}` : `no attachment point ${JSON.stringify(dst)} in the cost map (GET /api/v1/costs lists them)`,
        } satisfies ApiError);
      }
      return { src, version, entries: [withPaths(view, src, entry, paths.limit)] };
    },
  );
}

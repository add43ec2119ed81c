// The OpenAPI document covers the API as it is: every route the app registers (whoever adds it, now or
// later) appears in /api/v1/openapi.json unless it is a hidden static file, and every documented GET
// path answers, with sample values for its parameters taken from its own schema.
import assert from 'node:assert/strict';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { buildApi } from '../../controller/api/server.ts';
import { Controller } from '../../controller/controller.ts';
import { StreamHub } from '../../controller/api/stream.ts';
import { ControllerMetrics } from '../../controller/api/metrics.ts';
import { Network } from '../../controller/routing/network.ts';

interface Route {
  readonly method: string;
  readonly url: string;
  readonly hidden: boolean;
}

interface ParamSchema {
  type?: string;
  enum?: unknown[];
  examples?: unknown[];
  example?: unknown;
  default?: unknown;
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: ParamSchema;
}
interface Operation {
  parameters?: Parameter[];
  responses?: Record<string, unknown>;
  summary?: string;
}
interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
}

/** fastify's `/a/:id` (optionally `:id(regex)`) is OpenAPI's `/a/{id}`. */
const toOpenApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, '{$1}');

/** A value the schema itself suggests, so the request reaches the handler rather than failing validation. */
function sample(schema: ParamSchema | undefined): string {
  const pick = schema?.examples?.[0] ?? schema?.example ?? schema?.default ?? schema?.enum?.[0];
  if (pick !== undefined) return String(pick);
  switch (schema?.type) {
    case 'integer':
    case 'number':
      return '1';
    case 'boolean':
      return 'true';
    default:
      return 'sample';
  }
}

describe('api: OpenAPI document', function () {
  const routes: Route[] = [];
  let app: FastifyInstance;
  let doc: OpenApiDoc;
  const controller = new Controller();
  const metrics = new ControllerMetrics(controller, { processMetrics: false });

  before(async () => {
    const onRoute = (r: RouteOptions): void => {
      for (const method of [r.method].flat()) {
        const schema = r.schema as { hide?: boolean } | undefined;
        routes.push({ method, url: r.url, hidden: schema?.hide === true });
      }
    };
    // Every optional part given, so that every route that can exist is registered and checked.
    app = buildApi(controller, { hub: new StreamHub(), metrics, network: new Network(controller), onRoute });
    await app.ready();
    const res = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    assert.equal(res.statusCode, 200);
    doc = res.json<OpenApiDoc>();
  });

  after(async () => {
    await app?.close();
    metrics.close();
  });

  it('is an OpenAPI 3 document for this API', () => {
    assert.match(doc.openapi, /^3\./);
    assert.equal(doc.info.title, 'meshflow controller API');
    assert.ok(routes.length >= 8, `routes seen: ${routes.length}`);
  });

  it('documents every registered route that is not a hidden static file', () => {
    const missing: string[] = [];
    for (const r of routes) {
      // fastify adds HEAD for each GET by itself; the GET is what gets documented.
      if (r.method === 'HEAD' && routes.some((g) => g.method === 'GET' && g.url === r.url)) continue;
      if (r.hidden) {
        assert.ok(!r.url.startsWith('/api/') && r.url !== '/metrics', `${r.method} ${r.url} is API and must not be hidden`);
        continue;
      }
      if (doc.paths[toOpenApiPath(r.url)]?.[r.method.toLowerCase()] === undefined) missing.push(`${r.method} ${r.url}`);
    }
    assert.deepEqual(missing, [], 'routes missing from the OpenAPI document (register them inside buildApi\'s route plugin)');
  });

  it('documents nothing that is not a route', () => {
    const registered = new Set(routes.map((r) => `${r.method.toLowerCase()} ${toOpenApiPath(r.url)}`));
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) assert.ok(registered.has(`${method} ${path}`), `${method} ${path} documented but not registered`);
    }
  });

  it('gives every operation at least one documented response', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        assert.ok(op.responses && Object.keys(op.responses).length > 0, `${method} ${path} has responses`);
      }
    }
  });

  it('answers every documented GET path (no 404 from the router, no 5xx)', async () => {
    const failures: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      const op = ops.get;
      if (op === undefined) continue;
      const params = op.parameters ?? [];
      const url = path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
        encodeURIComponent(sample(params.find((p) => p.in === 'path' && p.name === name)?.schema)),
      );
      const query = new URLSearchParams();
      for (const p of params) if (p.in === 'query' && p.required) query.set(p.name, sample(p.schema));
      const target = query.size > 0 ? `${url}?${query}` : url;
      const res = await app.inject({ method: 'GET', url: target });
      const documented = op.responses?.[String(res.statusCode)] !== undefined;
      // A 404 is fine when the route itself says "no such thing" and documents it; the router's own 404 is not.
      const routerMiss = res.statusCode === 404 && /^Route GET:/.test(res.json<{ message?: string }>().message ?? '');
      if (res.statusCode >= 500 || routerMiss || (res.statusCode === 404 && !documented)) {
        failures.push(`GET ${target} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});

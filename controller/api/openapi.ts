// The API's OpenAPI document at /api/v1/openapi.json, generated from the routes' own schemas by
// @fastify/swagger, so the documentation cannot drift from what the server does.
//
// How a route gets documented: register it (inside buildApi's route plugin, which loads after this one)
// with `schema: { summary, description?, tags?, querystring?, params?, response: { 200: ..., 404: ... } }`.
// Response schemas also drive serialization, so list every field the route returns. Routes that are not
// part of the API (static dashboard assets) set `schema: { hide: true }`; test/api/openapi.test.ts checks
// that every other route appears in the document and answers.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { documentBearerAuth } from './auth.ts';

export const OPENAPI_PATH = '/api/v1/openapi.json';

function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // A missing or odd package.json only costs the version string.
  }
  return '0.0.0';
}

/** Registers the generator. Call it on the root app before any route, or those routes go undocumented. */
export function registerOpenApi(app: FastifyInstance): void {
  app.register(swagger, {
    // The bearer scheme, listed on every operation that writes (auth.ts).
    transformObject: (doc) => ('openapiObject' in doc ? documentBearerAuth(doc.openapiObject) : doc.swaggerObject),
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'meshflow controller API',
        description:
          'Northbound API of the meshflow OpenFlow 1.3 controller: topology, load and congestion, ' +
          'a live WebSocket stream, Prometheus metrics and the dashboard.',
        version: packageVersion(),
      },
      tags: [
        { name: 'topology', description: 'Switches, links and hosts' },
        { name: 'stream', description: 'Live events over WebSocket' },
        { name: 'metrics', description: 'Prometheus scrape endpoint' },
        { name: 'meta', description: 'Health, documentation and the dashboard' },
      ],
    },
  });
}

export function openApiRoutes(app: FastifyInstance): void {
  app.get(
    OPENAPI_PATH,
    {
      schema: {
        summary: 'This API as an OpenAPI 3 document',
        tags: ['meta'],
        response: { 200: { description: 'OpenAPI 3.0 document', type: 'object', additionalProperties: true } },
      },
    },
    async () => app.swagger(),
  );
}

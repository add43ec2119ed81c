// The northbound HTTP server: one fastify app, one route module per resource.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Controller } from '../controller.ts';
import { switchRoutes } from './switches.ts';

export interface ApiOptions {
  readonly host?: string;
  readonly port?: number;
}

export function buildApi(controller: Controller): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/api/v1/healthz', async () => ({ ok: true, switches: controller.switches.size }));
  switchRoutes(app, controller);
  return app;
}

export async function startApi(controller: Controller, opts: ApiOptions = {}): Promise<FastifyInstance> {
  const app = buildApi(controller);
  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 8080 });
  return app;
}

// The northbound HTTP server: one fastify app, one route module per resource.
import Fastify, { type FastifyInstance, type onRouteHookHandler } from 'fastify';
import websocket from '@fastify/websocket';
import type { Controller } from '../controller.ts';
import { switchRoutes, type RoleView } from './switches.ts';
import { StreamHub, streamControllerEvents, streamNetworkEvents, streamRoutes } from './stream.ts';
import { ControllerMetrics, metricsRoutes } from './metrics.ts';
import { openApiRoutes, registerOpenApi } from './openapi.ts';
import { dashboardRoutes } from './dashboard/routes.ts';
import { linkRoutes } from './links.ts';
import { hostRoutes } from './hosts.ts';
import { pathRoutes } from './paths.ts';
import type { Network } from '../routing/network.ts';
import type { Monitor } from '../monitor/monitor.ts';
import type { EventSource } from '../../bus/eventlog/index.ts';
import { congestionRoutes } from './congestion.ts';
import { eventRoutes } from './events.ts';
import { installAuth } from './auth.ts';
import { installErrorHandlers, type ErrorLog } from './errors.ts';
import { intentRoutes } from './intents.ts';
import type { IntentService } from '../intents/service.ts';
import { costRoutes } from './costs.ts';
import type { CostMapView } from '../monitor/costmap.ts';
import { altoRoutes } from './alto/routes.ts';

export interface BuildOptions {
  /** The live stream's hub; one is made when not given (then reachable only through the controller's events). */
  readonly hub?: StreamHub;
  readonly metrics?: ControllerMetrics;
  /** Sees every route as it is registered (tests use it to check that each one is documented). */
  readonly onRoute?: onRouteHookHandler;
  /** Discovery and forwarding: /links, /hosts and /paths exist only with it. */
  readonly network?: Network;
  /** Link load: /congestion exists only with it. */
  readonly monitor?: Monitor;
  /** The event log: /events exists only with it. */
  readonly events?: EventSource;
  /** Intents: /intents exists only with it. */
  readonly intents?: IntentService;
  /** The cost map (default: the monitor's): /costs exists only with it, and /alto with it and the network (for the hosts). */
  readonly costMap?: CostMapView;
  /** Bearer token required on mutating /api/v1/ requests (auth.ts); none: the API is open. */
  readonly apiToken?: string;
  /** Origins besides the API's own whose pages may open /api/v1/stream (--allow-origin). */
  readonly allowOrigins?: readonly string[];
  /** Where unexpected errors (answered 500 without details) are logged. */
  readonly errorLog?: ErrorLog;
  /** The switches' roles, when this controller is one of a group (cluster/roles.ts). */
  readonly roles?: RoleView;
}

export interface ApiOptions extends BuildOptions {
  readonly host?: string;
  readonly port?: number;
}

export function buildApi(controller: Controller, opts: BuildOptions = {}): FastifyInstance {
  const root = Fastify({ logger: false });
  // Before any route: every route answers errors in one shape and checks the token.
  installErrorHandlers(root, opts.errorLog ? { log: opts.errorLog } : {});
  installAuth(root, opts.apiToken);
  if (opts.onRoute) root.addHook('onRoute', opts.onRoute);
  // Both plugins see routes through onRoute hooks, so they load before the route plugin below.
  registerOpenApi(root);
  root.register(websocket);
  const hub = opts.hub ?? new StreamHub();
  const metrics = opts.metrics ?? new ControllerMetrics(controller, { hub });
  const unwire = [streamControllerEvents(controller, hub)];
  if (opts.network) unwire.push(streamNetworkEvents(opts.network, hub));
  root.addHook('preClose', async () => {
    for (const f of unwire) f();
    hub.closeAll();
    if (opts.metrics === undefined) metrics.close();
  });

  // Every route goes in here: registered after the plugins above, so each is documented in OpenAPI.
  root.register(async (app) => {
    app.get(
      '/api/v1/healthz',
      {
        schema: {
          summary: 'Liveness and the number of connected switches',
          tags: ['meta'],
          response: {
            200: {
              type: 'object',
              properties: { ok: { type: 'boolean' }, switches: { type: 'integer', minimum: 0 } },
              required: ['ok', 'switches'],
            },
          },
        },
      },
      async () => ({ ok: true, switches: controller.switches.size }),
    );
    switchRoutes(app, controller, opts.roles);
    streamRoutes(app, hub, opts.allowOrigins === undefined ? {} : { allowOrigins: opts.allowOrigins });
    metricsRoutes(app, metrics);
    openApiRoutes(app);
    dashboardRoutes(app);
    if (opts.network) {
      linkRoutes(app, opts.network);
      hostRoutes(app, opts.network);
      pathRoutes(app, opts.network);
    }
    if (opts.monitor) congestionRoutes(app, opts.monitor);
    if (opts.events) eventRoutes(app, opts.events);
    if (opts.intents) intentRoutes(app, opts.intents, opts.roles);
    const costMap = opts.costMap ?? opts.monitor?.costMap;
    if (costMap) costRoutes(app, costMap);
    const network = opts.network;
    if (costMap && network) altoRoutes(app, { costMap, hosts: () => network.discovery.hosts.values() });
  });
  return root;
}

export async function startApi(controller: Controller, opts: ApiOptions = {}): Promise<FastifyInstance> {
  const app = buildApi(controller, opts);
  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 8080 });
  return app;
}

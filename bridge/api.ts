// The bridge's REST API: the registry, changeable at run time, and what the bridge is doing.
// Bodies are checked by the registry store (one set of rules for files and for the API), and
// a refusal names the field: 400 { error, issues: [{ path, message }] }.
import Fastify, { type FastifyInstance, type FastifyReply, type onRequestHookHandler } from 'fastify';
import type { ChangeResult, RegistryStore } from './registry-store.ts';
import type { ServiceWeights } from './hints.ts';
import type { IntentSpec } from './policy.ts';
import type { BridgeMetrics } from './metrics.ts';

export interface BridgeView {
  readonly currentWeights: Readonly<Record<string, ServiceWeights>>;
  readonly currentIntents: readonly { key: string; id: string; spec: IntentSpec }[];
}

type KeyParams = { Params: { key: string } };

export interface BridgeApiOptions {
  /**
   * Checks requests before routing: the runner passes the controller's bearer-token hook
   * (controller/api/auth.ts), so bridge/ itself depends on nothing above it.
   */
  readonly authenticate?: onRequestHookHandler;
  /** Served at /metrics for Prometheus. */
  readonly metrics?: BridgeMetrics;
}

export function buildApi(store: RegistryStore, view?: BridgeView, opts: BridgeApiOptions = {}): FastifyInstance {
  const app = Fastify({ logger: false });
  if (opts.authenticate) app.addHook('onRequest', opts.authenticate);
  const base = '/api/v1/registry';

  // A malformed JSON body is the client's fault too: answer in the same shape.
  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    void reply.code(status).send({ error: status === 500 ? 'internal' : 'bad_request', issues: [{ path: '', message: err.message }] });
  });

  app.get('/healthz', async () => ({ ok: true }));
  const metrics = opts.metrics;
  if (metrics) {
    app.get('/metrics', async (_req, reply) => {
      const { contentType, body } = await metrics.scrape();
      return reply.type(contentType).send(body);
    });
  }
  app.get(base, async () => store.current);

  app.get(`${base}/services`, async () => store.current.services);
  app.get<KeyParams>(`${base}/services/:key`, async (req, reply) =>
    found(reply, store.current.services.find((s) => s.name === req.params.key), 'service', req.params.key),
  );
  app.put<KeyParams>(`${base}/services/:key`, async (req, reply) => answer(reply, store.putService(req.params.key, req.body)));
  app.delete<KeyParams>(`${base}/services/:key`, async (req, reply) => answer(reply, store.deleteService(req.params.key)));

  app.get(`${base}/replicas`, async () => store.current.replicas);
  app.get<KeyParams>(`${base}/replicas/:key`, async (req, reply) =>
    found(reply, store.current.replicas.find((r) => r.id === req.params.key), 'replica', req.params.key),
  );
  app.put<KeyParams>(`${base}/replicas/:key`, async (req, reply) => answer(reply, store.putReplica(req.params.key, req.body)));
  app.delete<KeyParams>(`${base}/replicas/:key`, async (req, reply) => answer(reply, store.deleteReplica(req.params.key)));

  app.get(`${base}/sidecars`, async () => store.current.sidecars);
  app.get<KeyParams>(`${base}/sidecars/:key`, async (req, reply) =>
    found(reply, store.current.sidecars.find((s) => s.id === req.params.key), 'sidecar', req.params.key),
  );
  app.put<KeyParams>(`${base}/sidecars/:key`, async (req, reply) => answer(reply, store.putSidecar(req.params.key, req.body)));
  app.delete<KeyParams>(`${base}/sidecars/:key`, async (req, reply) => answer(reply, store.deleteSidecar(req.params.key)));

  app.get(`${base}/attachments`, async () => store.current.attachments);
  app.put<KeyParams>(`${base}/attachments/:key`, async (req, reply) => {
    const body = req.body;
    const pid = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['pid'] : undefined;
    return answer(reply, store.putAttachment(req.params.key, pid));
  });
  app.delete<KeyParams>(`${base}/attachments/:key`, async (req, reply) => answer(reply, store.deleteAttachment(req.params.key)));

  if (view) {
    app.get('/api/v1/weights', async () => view.currentWeights);
    app.get('/api/v1/intents', async () => view.currentIntents);
  }
  return app;
}

function found<T>(reply: FastifyReply, item: T | undefined, what: string, key: string): T | FastifyReply {
  if (item !== undefined) return item;
  return reply.code(404).send({ error: 'not_found', issues: [{ path: '', message: `no ${what} "${key}"` }] });
}

function answer<T>(reply: FastifyReply, r: ChangeResult<T>): FastifyReply {
  if (r.ok) return reply.code(r.created ? 201 : 200).send(r.value);
  const error = r.status === 400 ? 'invalid' : r.status === 404 ? 'not_found' : 'conflict';
  // Paths are JSON pointers into the request body ("/port"), as in registry file errors.
  const message = r.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  return reply.code(r.status).send({ error, message, issues: r.issues });
}

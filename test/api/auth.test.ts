// Bearer tokens on the requests that change state (controller and bridge APIs), production mode,
// the OpenAPI security scheme, and the controller API's one error shape.
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { bearerAuth, installAuth, MissingTokenError, requireTokenInProduction, tokensEqual } from '../../controller/api/auth.ts';
import { installErrorHandlers } from '../../controller/api/errors.ts';
import { buildApi } from '../../controller/api/server.ts';
import { ControllerMetrics } from '../../controller/api/metrics.ts';
import { Controller } from '../../controller/controller.ts';
import { runController, type RunningController } from '../../controller/run.ts';
import { buildApi as buildBridgeApi } from '../../bridge/api.ts';
import { emptyRegistry } from '../../bridge/registry.ts';
import { RegistryStore } from '../../bridge/registry-store.ts';

const TOKEN = 'c0ffee-token';

function appWithAuth(token: string | undefined): FastifyInstance {
  const app = Fastify();
  installAuth(app, token);
  for (const method of ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    if (method === 'HEAD') continue; // fastify adds HEAD for every GET
    app.route({ method, url: '/api/v1/things', handler: async () => ({ ok: true }) });
  }
  app.post('/outside', async () => ({ ok: true }));
  return app;
}

describe('api auth: bearer token on mutating requests', () => {
  let app: FastifyInstance;
  before(() => (app = appWithAuth(TOKEN)));
  after(() => app.close());

  it('answers 401 with a challenge and the error shape when the token is missing', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/things', payload: {} });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="meshflow"');
    const body = res.json<{ error: string; message: string }>();
    assert.equal(body.error, 'unauthorized');
    assert.match(body.message, /Authorization: Bearer <token>.*--api-token/);
  });

  it('answers 401 invalid_token for a wrong token or another scheme', async () => {
    for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${Buffer.from('a:b').toString('base64')}`, 'Bearer', `Bearer ${TOKEN} extra`]) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
        const res = await app.inject({ method, url: '/api/v1/things', headers: { authorization } });
        assert.equal(res.statusCode, 401, `${method} with ${authorization}`);
        assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/);
      }
    }
  });

  it('lets the right token through, whatever the case of "Bearer"', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      const res = await app.inject({ method, url: '/api/v1/things', headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.statusCode, 200, method);
    }
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/things', headers: { authorization: `bearer  ${TOKEN}` } })).statusCode, 200);
  });

  it('leaves reads and everything outside /api/v1/ open', async () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS'] as const) {
      assert.equal((await app.inject({ method, url: '/api/v1/things' })).statusCode, 200, method);
    }
    assert.equal((await app.inject({ method: 'POST', url: '/outside' })).statusCode, 200);
  });

  it('checks the route that matched, so a percent-encoded path cannot slip past', async () => {
    const res = await app.inject({ method: 'POST', url: '/%61pi/v1/things' });
    assert.equal(res.statusCode, 401);
  });

  it('is open without a token, and compares tokens by content only', async () => {
    const open = appWithAuth(undefined);
    assert.equal((await open.inject({ method: 'DELETE', url: '/api/v1/things' })).statusCode, 200);
    await open.close();
    assert.equal(tokensEqual('abc', 'abc'), true);
    assert.equal(tokensEqual('abc', 'abd'), false);
    assert.equal(tokensEqual('abc', 'abcd'), false);
    assert.throws(() => bearerAuth(''));
  });
});

describe('api auth: the controller', function () {
  this.timeout(20_000);
  let running: RunningController;
  before(async () => {
    running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, apiToken: TOKEN });
  });
  after(() => running.stop());

  const call = (method: string, path: string, token?: string, body?: unknown): Promise<Response> =>
    fetch(running.apiUrl + path, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('refuses POST and DELETE on /api/v1/intents without the token or with a wrong one', async () => {
    for (const token of [undefined, 'wrong']) {
      const post = await call('POST', '/api/v1/intents', token, { src: 'h1', dst: 'h2', policy: 'least-congested' });
      assert.equal(post.status, 401);
      assert.equal(((await post.json()) as { error: string }).error, 'unauthorized');
      assert.equal((await call('DELETE', '/api/v1/intents/i1', token)).status, 401);
    }
  });

  it('lets the token holder through to the intents service (which then judges the request)', async () => {
    const post = await call('POST', '/api/v1/intents', TOKEN, { src: 'nosuch-a', dst: 'nosuch-b', policy: 'least-congested' });
    assert.notEqual(post.status, 401);
    assert.ok(post.status < 500, `status ${post.status}`);
    const del = await call('DELETE', '/api/v1/intents/nosuch', TOKEN);
    assert.equal(del.status, 404);
  });

  it('keeps GETs open', async () => {
    assert.equal((await call('GET', '/api/v1/healthz')).status, 200);
    assert.equal((await call('GET', '/api/v1/intents')).status, 200);
  });

  it('documents the bearer scheme on every operation that writes, and on no read', async () => {
    const doc = (await (await call('GET', '/api/v1/openapi.json')).json()) as {
      components?: { securitySchemes?: Record<string, { type: string; scheme: string }> };
      paths: Record<string, Record<string, { security?: unknown; responses?: Record<string, unknown> }>>;
    };
    assert.deepEqual(
      { type: doc.components?.securitySchemes?.['bearerAuth']?.type, scheme: doc.components?.securitySchemes?.['bearerAuth']?.scheme },
      { type: 'http', scheme: 'bearer' },
    );
    let writes = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const write = ['post', 'put', 'patch', 'delete'].includes(method) && path.startsWith('/api/v1/');
        if (write) {
          writes++;
          assert.deepEqual(op.security, [{ bearerAuth: [] }], `${method} ${path}`);
          assert.ok(op.responses?.['401'], `${method} ${path} documents 401`);
        } else {
          assert.equal(op.security, undefined, `${method} ${path}`);
        }
      }
    }
    assert.ok(writes >= 2, 'the intents POST and DELETE are documented');
  });
});

describe('api auth: production mode', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env['NODE_ENV'];
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['NODE_ENV'];
    else process.env['NODE_ENV'] = saved;
  });

  it('refuses to start the controller without a token (--production or NODE_ENV=production)', async () => {
    await assert.rejects(runController({ ofPort: 0, apiPort: 0, production: true }), (e: unknown) => e instanceof MissingTokenError && /--api-token or MESHFLOW_API_TOKEN/.test(e.message));
    process.env['NODE_ENV'] = 'production';
    await assert.rejects(runController({ ofPort: 0, apiPort: 0 }), MissingTokenError);
  });

  it('starts in production with a token, and outside production without one', async () => {
    process.env['NODE_ENV'] = 'production';
    const withToken = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, apiToken: TOKEN });
    await withToken.stop();
    assert.doesNotThrow(() => requireTokenInProduction('the bridge', { nodeEnv: 'development' }));
    assert.throws(() => requireTokenInProduction('the bridge', { production: true, apiToken: '' }), /the bridge runs in production mode/);
  });
});

describe('api auth: the bridge registry API', () => {
  let app: FastifyInstance;
  before(() => (app = buildBridgeApi(new RegistryStore(emptyRegistry), undefined, { authenticate: bearerAuth(TOKEN) })));
  after(() => app.close());
  const service = { port: 8080 };

  it('refuses PUT and DELETE without the right token', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }]) {
      assert.equal((await app.inject({ method: 'PUT', url: '/api/v1/registry/services/orders', headers, payload: service })).statusCode, 401);
      assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/registry/services/orders', headers })).statusCode, 401);
    }
  });

  it('accepts them with it, and keeps GETs open', async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const put = await app.inject({ method: 'PUT', url: '/api/v1/registry/services/orders', headers, payload: service });
    assert.equal(put.statusCode, 201, put.body);
    assert.equal((await app.inject({ url: '/api/v1/registry/services/orders' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/registry/services/orders', headers })).statusCode, 200);
  });
});

describe('api errors: one shape { error, message, field? }', () => {
  it('answers an unknown route with 404 not_found (keeping fastify\'s "Route …" opening)', async () => {
    const controller = new Controller();
    const metrics = new ControllerMetrics(controller, { processMetrics: false });
    const app = buildApi(controller, { metrics });
    const res = await app.inject({ method: 'GET', url: '/api/v1/nope?x=1' });
    assert.equal(res.statusCode, 404);
    const body = res.json<{ error: string; message: string }>();
    assert.equal(body.error, 'not_found');
    assert.match(body.message, /^Route GET:\/api\/v1\/nope not found; GET \/api\/v1\/openapi\.json lists the API$/);
    await app.close();
    metrics.close();
  });

  it('answers a schema violation of the controller API with 400 bad_request and the field', async () => {
    const controller = new Controller();
    const metrics = new ControllerMetrics(controller, { processMetrics: false });
    const app = buildApi(controller, { metrics, events: { read: async () => [], close: async () => {} } });
    const res = await app.inject({ method: 'GET', url: '/api/v1/events?since=-5' });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { error: 'bad_request', message: 'querystring/since must be >= 0', field: '/since' });
    await app.close();
    metrics.close();
  });

  describe('on a validating route', () => {
    let app: FastifyInstance;
    before(async () => {
      app = Fastify();
      installErrorHandlers(app);
      const body = {
        type: 'object',
        properties: { src: { type: 'string' }, dstPort: { type: 'integer', minimum: 0, maximum: 65535 } },
        required: ['src'],
        additionalProperties: false,
      } as const;
      app.post('/api/v1/things', { schema: { body } }, async () => ({ ok: true }));
      app.get('/api/v1/boom', async () => {
        throw new Error('secret detail at /etc/shadow');
      });
      await app.ready();
    });
    after(() => app.close());

    it('names the bad body field', async () => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/things', payload: { src: 'h1', dstPort: 70000 } });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), { error: 'bad_request', message: 'body/dstPort must be <= 65535', field: '/dstPort' });
    });

    it('names a missing field', async () => {
      const missing = await app.inject({ method: 'POST', url: '/api/v1/things', payload: { dstPort: 1 } });
      assert.deepEqual(missing.json(), { error: 'bad_request', message: "body must have required property 'src'", field: '/src' });
    });

    it('answers a body that is not JSON with 400 bad_request', async () => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/things', headers: { 'content-type': 'application/json' }, payload: '{"src":' });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json<{ error: string }>().error, 'bad_request');
    });

    it('answers an unexpected error with 500 internal, without its message or stack', async () => {
      const res = await app.inject({ method: 'GET', url: '/api/v1/boom' });
      assert.equal(res.statusCode, 500);
      const body = res.json<{ error: string; message: string }>();
      assert.equal(body.error, 'internal');
      assert.doesNotMatch(res.body, /shadow|at .*\.ts/);
      assert.match(body.message, /unexpected error; the controller log has the details \(request req-\w+\)/);
    });
  });
});

// The network routes without a network: documented in OpenAPI, and the coded 400/404 answers of
// /paths, which need no switches at all.
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { Controller } from '../../controller/controller.ts';
import { buildApi } from '../../controller/api/server.ts';
import { Network } from '../../controller/routing/network.ts';

describe('routing: network API routes', () => {
  let app: FastifyInstance;

  before(async () => {
    const controller = new Controller();
    app = buildApi(controller, { network: new Network(controller, { hostNames: new Map([['00:00:00:00:00:01', 'h1']]) }) });
    await app.ready();
  });

  after(async () => {
    await app.close();
  });

  it('are listed in the OpenAPI document', async () => {
    const doc = (await app.inject('/api/v1/openapi.json')).json() as { paths: Record<string, unknown> };
    for (const p of ['/api/v1/links', '/api/v1/hosts', '/api/v1/paths']) assert.ok(p in doc.paths, p);
  });

  it('list no links and no hosts before any switch joins', async () => {
    assert.deepEqual((await app.inject('/api/v1/links')).json(), []);
    assert.deepEqual((await app.inject('/api/v1/hosts')).json(), []);
  });

  it('answer 400 for missing, repeated or malformed hosts, 404 for unknown ones', async () => {
    const cases: [string, number, RegExp][] = [
      ['/api/v1/paths', 400, /"src" is required/],
      ['/api/v1/paths?src=h1', 400, /"dst" is required/],
      ['/api/v1/paths?src=h1&dst=', 400, /"dst" is required/],
      ['/api/v1/paths?src=h1&dst=10.0.0.256', 400, /neither a host name/],
      ['/api/v1/paths?src=%21%21&dst=h1', 400, /neither a host name/],
      ['/api/v1/paths?src=h1&dst=h2', 404, /no host "h1"/],
      ['/api/v1/paths?src=10.0.0.1&dst=00:00:00:00:00:02', 404, /no host "10.0.0.1"/],
    ];
    for (const [url, status, message] of cases) {
      const res = await app.inject(url);
      assert.equal(res.statusCode, status, url);
      const body = res.json() as { error: string; message: string };
      assert.match(body.message, message, url);
    }
    const twice = await app.inject('/api/v1/paths?src=h1&src=h2&dst=h1');
    assert.equal(twice.statusCode, 400);
  });
});

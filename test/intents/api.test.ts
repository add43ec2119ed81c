// The intents routes without a network: documented in OpenAPI, refusing bad bodies with 400s that
// name the field, and 404 for intents that do not exist.
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { Controller } from '../../controller/controller.ts';
import { buildApi } from '../../controller/api/server.ts';
import { Network } from '../../controller/routing/network.ts';
import { IntentService } from '../../controller/intents/service.ts';

describe('intents: API routes', () => {
  let app: FastifyInstance;

  before(async () => {
    const controller = new Controller();
    const network = new Network(controller, { hostNames: new Map([['00:00:00:00:00:01', 'h1']]) });
    app = buildApi(controller, { network, intents: new IntentService(controller, network, undefined) });
    await app.ready();
  });

  after(async () => {
    await app.close();
  });

  it('are listed in the OpenAPI document with their body schema', async () => {
    const doc = (await app.inject('/api/v1/openapi.json')).json() as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    assert.ok(doc.paths['/api/v1/intents']?.['post']?.requestBody, 'POST documents its body');
    assert.ok(doc.paths['/api/v1/intents']?.['get']);
    assert.ok(doc.paths['/api/v1/intents/{id}']?.['get']);
    assert.ok(doc.paths['/api/v1/intents/{id}']?.['delete']);
  });

  it('list nothing at first, and answer 404 for an unknown id', async () => {
    assert.deepEqual((await app.inject('/api/v1/intents')).json(), []);
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await app.inject({ method, url: '/api/v1/intents/i42' });
      assert.equal(res.statusCode, 404, method);
      assert.equal((res.json() as { error: string }).error, 'not_found');
    }
  });

  it('answer 400 naming the field, without coercing or dropping anything', async () => {
    const cases: [unknown, RegExp][] = [
      [{ src: 'h1', dst: 'h3', policy: 'shortest', ipProto: 6, dstPort: 65536 }, /^\/dstPort: must be <= 65535$/],
      [{ src: 'h1', dst: 'h3', policy: 'shortest', ipProto: 6, dstPort: '80' }, /^\/dstPort: must be integer$/],
      [{ src: 'h1', dst: 'h3', policy: 'shortest', extra: 1 }, /^\/extra: is not a field/],
      [{ src: 'h1', dst: 'h9', policy: 'shortest' }, /unknown host "h1"/],
    ];
    for (const [payload, message] of cases) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/intents', payload: payload as object });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      const body = res.json() as { error: string; message: string };
      assert.equal(body.error, 'bad_request');
      assert.match(body.message, message);
    }
  });
});

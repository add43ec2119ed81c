// GET /api/v1/costs and /api/v1/costs/<pid> over a hand-made cost map: the pids and summary, one
// row, one destination, the equal-cost paths on request, and the coded 400s and 404s.
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { Controller } from '../../controller/controller.ts';
import { buildApi } from '../../controller/api/server.ts';
import { FakeCostMap, S1, S2, S3, S4 } from './costmap-fake.ts';
import { D1, D2, D3, D4, diamondCostMap, linkId } from './costmap-real.ts';

interface Entry {
  dstPid: string;
  hops: number;
  paths: number;
  bottleneckUtilization: number;
  availableBps: number;
  worstUtilization: number;
  worstAvailableBps: number;
  aggregateBps: number;
  level: string;
  worstLevel: string;
  equalCostPaths?: string[][];
}
interface Row {
  src: string;
  version: number;
  entries: Entry[];
}

describe('api: /api/v1/costs', () => {
  let app: FastifyInstance;
  let view: FakeCostMap;

  beforeEach(async () => {
    view = new FakeCostMap();
    app = buildApi(new Controller(), { costMap: view });
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
  });

  const get = async (url: string) => app.inject({ method: 'GET', url });

  it('lists the pids with the version and a summary of every pair', async () => {
    const res = await get('/api/v1/costs');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      version: 7,
      pids: [S1, S2, S3, S4],
      summary: {
        pids: 4,
        pairs: 12,
        unreachablePairs: 6,
        levels: { ok: 4, warning: 1, congested: 1, down: 6 },
        multipathPairs: 4,
        maxHops: 2,
        maxBottleneckUtilization: 0.95,
      },
    });
  });

  it('gives a row with every field of each entry, and no paths unless asked', async () => {
    const body = (await get(`/api/v1/costs/${S1}`)).json<Row>();
    assert.equal(body.src, S1);
    assert.equal(body.version, 7);
    assert.deepEqual(body.entries.map((e) => e.dstPid), [S2, S3, S4]);
    assert.deepEqual(body.entries[1], {
      dstPid: S3,
      hops: 2,
      paths: 2,
      bottleneckUtilization: 0.25,
      availableBps: 7_500_000,
      worstUtilization: 0.5,
      worstAvailableBps: 5_000_000,
      aggregateBps: 15_000_000,
      level: 'ok',
      worstLevel: 'ok',
    });
    assert.equal(body.entries[2]?.level, 'down');
    assert.ok(body.entries.every((e) => e.equalCostPaths === undefined));
  });

  it('adds the equal-cost paths as link-id lists with ?paths=true, up to N with ?paths=N', async () => {
    const all = (await get(`/api/v1/costs/${S1}?paths=true`)).json<Row>();
    assert.deepEqual(all.entries.map((e) => e.equalCostPaths), [[['l12']], [['l12', 'l23a'], ['l12', 'l23b']], []]);
    const one = (await get(`/api/v1/costs/${S1}?paths=1`)).json<Row>();
    assert.deepEqual(one.entries[1]?.equalCostPaths, [['l12', 'l23a']]);
    const none = (await get(`/api/v1/costs/${S1}?paths=false`)).json<Row>();
    assert.equal(none.entries[1]?.equalCostPaths, undefined);
  });

  it('answers one destination with ?dst, paths included when asked', async () => {
    const body = (await get(`/api/v1/costs/${S3}?dst=${S2}&paths=true`)).json<Row>();
    assert.equal(body.entries.length, 1);
    assert.equal(body.entries[0]?.dstPid, S2);
    assert.equal(body.entries[0]?.level, 'congested');
    assert.deepEqual(body.entries[0]?.equalCostPaths, [['l32a'], ['l32b']]);
  });

  it('follows the cost map: a new figure shows with the new version', async () => {
    view.setUtilization(S1, S2, 0.6);
    const body = (await get(`/api/v1/costs/${S1}?dst=${S2}`)).json<Row>();
    assert.equal(body.version, 8);
    assert.equal(body.entries[0]?.bottleneckUtilization, 0.6);
  });

  it('answers 404 in the error shape for an unknown pid, as source or destination', async () => {
    const cases: [string, string, RegExp][] = [
      ['/api/v1/costs/00000000000000ff', 'unknown_pid', /no attachment point "00000000000000ff"/],
      [`/api/v1/costs/${S1}?dst=00000000000000ff`, 'unknown_pid', /no attachment point "00000000000000ff"/],
      [`/api/v1/costs/${S1}?dst=${S1}`, 'no_entry', /has no entry for/],
    ];
    for (const [url, error, message] of cases) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      const body = res.json<{ error: string; message: string }>();
      assert.equal(body.error, error, url);
      assert.match(body.message, message, url);
    }
  });

  it('answers 400 naming the field for a bad query', async () => {
    const cases: [string, string, RegExp][] = [
      ['paths=yes', '/paths', /must be true, false or a number/],
      ['paths=-1', '/paths', /must be true, false or a number/],
      ['paths=257', '/paths', /from 0 to 256/],
      ['paths=1.5', '/paths', /must be true, false or a number/],
      ['paths=1&paths=2', '/paths', /more than once/],
      [`dst=${S2}&dst=${S3}`, '/dst', /more than once/],
      ['dst=', '/dst', /is empty/],
    ];
    for (const [query, field, message] of cases) {
      const res = await get(`/api/v1/costs/${S1}?${query}`);
      assert.equal(res.statusCode, 400, query);
      const body = res.json<{ error: string; message: string; field?: string }>();
      assert.equal(body.error, 'bad_request', query);
      assert.equal(body.field, field, query);
      assert.match(body.message, message, query);
    }
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = (await get('/api/v1/openapi.json')).json<{ paths: Record<string, unknown> }>();
    for (const p of ['/api/v1/costs', '/api/v1/costs/{pid}']) assert.ok(p in doc.paths, p);
  });
});

describe("api: /api/v1/costs over the monitor's cost map", () => {
  it('lists both equal-cost paths of the diamond as link ids, in order', async () => {
    const app = buildApi(new Controller(), { costMap: diamondCostMap() });
    try {
      await app.ready();
      const body = (await app.inject(`/api/v1/costs/${D1}?dst=${D4}&paths=true`)).json<Row>();
      const e = body.entries[0];
      assert.equal(e?.hops, 2);
      assert.equal(e?.paths, 2);
      const viaD2 = [linkId(D1, 2, D2, 1), linkId(D2, 2, D4, 2)];
      const viaD3 = [linkId(D1, 3, D3, 1), linkId(D3, 2, D4, 3)];
      assert.deepEqual([...(e?.equalCostPaths ?? [])].sort(), [viaD2, viaD3].sort());
    } finally {
      await app.close();
    }
  });
});

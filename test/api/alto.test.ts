// The ALTO (RFC 7285) view of the cost map from a hand-made cost map and host table: the documents'
// exact structure (IRD, network map with its vtag, cost maps with dependent-vtags and cost-type),
// content negotiation, the filtered cost map, and ALTO's error responses.
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { Controller } from '../../controller/controller.ts';
import { buildApi } from '../../controller/api/server.ts';
import { installErrorHandlers } from '../../controller/api/errors.ts';
import { Network } from '../../controller/routing/network.ts';
import { altoRoutes } from '../../controller/api/alto/routes.ts';
import { accepts } from '../../controller/api/alto/media.ts';
import { parseFilterRequest } from '../../controller/api/alto/filter.ts';
import {
  costMapData,
  DEFAULT_PID,
  directoryDocument,
  METRICS,
  networkMapData,
  networkMapTag,
  PID_NAME,
  PidNames,
  type AttachedHost,
} from '../../controller/api/alto/documents.ts';
import { FakeCostMap, S1, S2, S3, S4 } from './costmap-fake.ts';
import { D1, D2, D4, diamondCostMap, linkId } from './costmap-real.ts';

const host = (dpid: string, ipv4: string | undefined, lastSeen = 1): AttachedHost => ({ at: { dpid }, ipv4, lastSeen });

const HOSTS: AttachedHost[] = [
  host(S1, '10.0.0.11'),
  host(S1, '10.0.0.2'),
  host(S2, '10.0.0.3'),
  host(S3, '10.0.0.4'),
  host(S4, '10.0.0.5'),
  host(S3, undefined), // no IPv4 learned yet: not in the map
  host('00000000000000aa', '10.0.0.99'), // a switch that is not an attachment point of the cost map
];

const routing = METRICS.find((m) => m.costType['cost-metric'] === 'routingcost')!;
const utilization = METRICS.find((m) => m.costType['cost-metric'] !== 'routingcost')!;

describe('alto: documents', () => {
  it('has a directory listing the network map, both cost maps and the filtered cost map', () => {
    assert.deepEqual(directoryDocument(), {
      meta: {
        'cost-types': {
          'num-routingcost': { 'cost-mode': 'numerical', 'cost-metric': 'routingcost', description: routing.costType.description },
          'num-bottleneck-util': { 'cost-mode': 'numerical', 'cost-metric': 'priv:meshflow-bottleneck-util', description: utilization.costType.description },
        },
        'default-alto-network-map': 'network-map',
      },
      resources: {
        'network-map': { uri: '/alto/networkmap', 'media-type': 'application/alto-networkmap+json' },
        'routingcost-map': {
          uri: '/alto/costmap/routingcost',
          'media-type': 'application/alto-costmap+json',
          capabilities: { 'cost-type-names': ['num-routingcost'] },
          uses: ['network-map'],
        },
        'bottleneck-util-map': {
          uri: '/alto/costmap/bottleneck-util',
          'media-type': 'application/alto-costmap+json',
          capabilities: { 'cost-type-names': ['num-bottleneck-util'] },
          uses: ['network-map'],
        },
        'filtered-cost-map': {
          uri: '/alto/costmap/filtered',
          'media-type': 'application/alto-costmap+json',
          accepts: 'application/alto-costmapfilter+json',
          capabilities: { 'cost-constraints': true, 'cost-type-names': ['num-routingcost', 'num-bottleneck-util'] },
          uses: ['network-map'],
        },
      },
    });
  });

  it('names cost metrics and resources within the RFC rules (§10.2, §10.6)', () => {
    for (const m of METRICS) {
      assert.match(m.costType['cost-metric'], /^[A-Za-z0-9\-:_.]{1,32}$/);
      assert.ok(m.costType['cost-metric'] === 'routingcost' || /^priv:.+/.test(m.costType['cost-metric']));
      assert.match(m.resourceId, PID_NAME);
    }
  });

  it('keeps dpids as PID names and renames only pids that are not valid names', () => {
    const names = new PidNames([S1, 'a b', DEFAULT_PID]);
    assert.equal(names.alto(S1), S1);
    assert.equal(names.pid(S1), S1);
    for (const odd of ['a b', DEFAULT_PID]) {
      const n = names.alto(odd);
      assert.notEqual(n, odd);
      assert.match(n, PID_NAME);
      assert.equal(names.pid(n), odd);
    }
  });

  it("puts each attachment point's hosts under its PID as /32s, plus a default PID for every other address", () => {
    const view = new FakeCostMap();
    const data = networkMapData(view.pids(), HOSTS, new PidNames(view.pids()));
    assert.deepEqual(data, {
      [S1]: { ipv4: ['10.0.0.2/32', '10.0.0.11/32'] },
      [S2]: { ipv4: ['10.0.0.3/32'] },
      [S3]: { ipv4: ['10.0.0.4/32'] },
      [S4]: { ipv4: ['10.0.0.5/32'] },
      [DEFAULT_PID]: { ipv4: ['0.0.0.0/0'] },
    });
    assert.deepEqual(Object.keys(data), [S1, S2, S3, S4, DEFAULT_PID]);
  });

  it('gives an address seen at two switches only to the one where it was seen last (non-overlapping)', () => {
    const pids = [S1, S2];
    const data = networkMapData(pids, [host(S1, '10.0.0.7', 5), host(S2, '10.0.0.7', 9)], new PidNames(pids));
    assert.deepEqual(data[S1], { ipv4: [] });
    assert.deepEqual(data[S2], { ipv4: ['10.0.0.7/32'] });
  });

  it('tags the network map by its content: host order does not matter, a new host does', () => {
    const pids = new FakeCostMap().pids();
    const names = new PidNames(pids);
    const tag = networkMapTag(networkMapData(pids, HOSTS, names));
    assert.match(tag, /^[\x21-\x7e]{1,64}$/);
    assert.equal(networkMapTag(networkMapData(pids, [...HOSTS].reverse(), names)), tag);
    assert.notEqual(networkMapTag(networkMapData(pids, [...HOSTS, host(S2, '10.0.0.8')], names)), tag);
    assert.notEqual(networkMapTag(networkMapData(pids.slice(0, 3), HOSTS, names)), tag);
  });

  it('makes the routingcost map from hop counts: 0 within a PID, unreachable pairs left out', () => {
    const view = new FakeCostMap();
    assert.deepEqual(costMapData(view, routing, new PidNames(view.pids())), {
      [S1]: { [S1]: 0, [S2]: 1, [S3]: 2 },
      [S2]: { [S1]: 1, [S2]: 0, [S3]: 1 },
      [S3]: { [S1]: 2, [S2]: 1, [S3]: 0 },
      [S4]: { [S4]: 0 },
    });
  });

  it("makes the utilization map from the best path's bottleneck", () => {
    const view = new FakeCostMap();
    assert.deepEqual(costMapData(view, utilization, new PidNames(view.pids())), {
      [S1]: { [S1]: 0, [S2]: 0.1, [S3]: 0.25 },
      [S2]: { [S1]: 0.1, [S2]: 0, [S3]: 0.5 },
      [S3]: { [S1]: 0.2, [S2]: 0.95, [S3]: 0 },
      [S4]: { [S4]: 0 },
    });
  });
});

describe('alto: content negotiation', () => {
  it('allows the type itself, its wildcards and no Accept at all; refuses others and q=0', () => {
    const t = 'application/alto-costmap+json';
    for (const a of [undefined, '', t, `${t},application/alto-error+json`, '*/*', 'application/*', 'text/html, */*;q=0.1', 'APPLICATION/ALTO-COSTMAP+JSON']) {
      assert.equal(accepts(a, t), true, String(a));
    }
    for (const a of ['application/json', 'application/alto-networkmap+json', 'text/*', `*/*, ${t};q=0`, `${t};q=0`]) {
      assert.equal(accepts(a, t), false, a);
    }
  });
});

describe('alto: filtered cost map requests', () => {
  const ct = '"cost-type":{"cost-mode":"numerical","cost-metric":"routingcost"}';
  const cases: [string, string, Record<string, string>][] = [
    ['{', 'E_SYNTAX', {}],
    ['[]', 'E_SYNTAX', {}],
    ['{}', 'E_MISSING_FIELD', { field: 'cost-type' }],
    ['{"cost-type":"routingcost"}', 'E_INVALID_FIELD_TYPE', { field: 'cost-type' }],
    ['{"cost-type":{"cost-mode":"numerical"}}', 'E_MISSING_FIELD', { field: 'cost-type/cost-metric' }],
    ['{"cost-type":{"cost-mode":1,"cost-metric":"routingcost"}}', 'E_INVALID_FIELD_TYPE', { field: 'cost-type/cost-mode' }],
    ['{"cost-type":{"cost-mode":"ordinal","cost-metric":"routingcost"}}', 'E_INVALID_FIELD_VALUE', { field: 'cost-type/cost-mode', value: 'ordinal' }],
    ['{"cost-type":{"cost-mode":"numerical","cost-metric":"hopcount"}}', 'E_INVALID_FIELD_VALUE', { field: 'cost-type/cost-metric', value: 'hopcount' }],
    [`{${ct},"constraints":"le 2"}`, 'E_INVALID_FIELD_TYPE', { field: 'constraints' }],
    [`{${ct},"constraints":["below 2"]}`, 'E_INVALID_FIELD_VALUE', { field: 'constraints', value: 'below 2' }],
    [`{${ct},"constraints":[2]}`, 'E_INVALID_FIELD_VALUE', { field: 'constraints', value: '2' }],
    [`{${ct},"pids":[]}`, 'E_INVALID_FIELD_TYPE', { field: 'pids' }],
    [`{${ct},"pids":{"srcs":[]}}`, 'E_MISSING_FIELD', { field: 'pids/dsts' }],
    [`{${ct},"pids":{"srcs":[],"dsts":"x"}}`, 'E_INVALID_FIELD_TYPE', { field: 'pids/dsts' }],
    [`{${ct},"pids":{"srcs":[7],"dsts":[]}}`, 'E_INVALID_FIELD_VALUE', { field: 'pids/srcs', value: '7' }],
    [`{${ct},"pids":{"srcs":["a b"],"dsts":[]}}`, 'E_SYNTAX', {}],
  ];
  for (const [body, code, extra] of cases) {
    it(`${body} -> ${code} ${extra.field ?? ''}`, () => {
      const r = parseFilterRequest(body);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.code, code);
      assert.equal(r.error.field, extra.field);
      assert.equal(r.error.value, extra.value);
      if (code === 'E_SYNTAX') assert.ok((r.error['syntax-error'] ?? '').length > 0);
    });
  }

  it('reads a valid request: metric, constraints, pids without duplicates, unknown fields ignored', () => {
    const r = parseFilterRequest(`{${ct},"constraints":["ge 1","lt 2.5e0"],"pids":{"srcs":["a","a"],"dsts":[]},"extra":1}`);
    assert.ok(r.ok);
    assert.equal(r.request.metric, routing);
    assert.deepEqual(r.request.constraints, [{ op: 'ge', value: 1 }, { op: 'lt', value: 2.5 }]);
    assert.deepEqual(r.request.srcs, ['a']);
    assert.deepEqual(r.request.dsts, []);
  });
});

describe('alto: routes', () => {
  let app: FastifyInstance;
  let view: FakeCostMap;
  let hosts: AttachedHost[];

  beforeEach(async () => {
    view = new FakeCostMap();
    hosts = [...HOSTS];
    app = Fastify();
    installErrorHandlers(app);
    altoRoutes(app, { costMap: view, hosts: () => hosts });
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
  });

  const get = (url: string, accept?: string): Promise<LightMyRequestResponse> =>
    app.inject({ method: 'GET', url, headers: accept === undefined ? {} : { accept } });
  const filter = (body: string, contentType = 'application/alto-costmapfilter+json'): Promise<LightMyRequestResponse> =>
    app.inject({
      method: 'POST',
      url: '/alto/costmap/filtered',
      headers: { 'content-type': contentType, accept: 'application/alto-costmap+json,application/alto-error+json' },
      payload: body,
    });
  const mediaType = (res: LightMyRequestResponse): string => String(res.headers['content-type']).split(';')[0] ?? '';

  it('serves each resource of the directory at its URI with its media type', async () => {
    const ird = await get('/alto', 'application/alto-directory+json,application/alto-error+json');
    assert.equal(ird.statusCode, 200);
    assert.equal(mediaType(ird), 'application/alto-directory+json');
    assert.deepEqual(ird.json(), directoryDocument());
    for (const [id, r] of Object.entries(directoryDocument().resources)) {
      if (r.accepts !== undefined) continue;
      const res = await get(r.uri, `${r['media-type']},application/alto-error+json`);
      assert.equal(res.statusCode, 200, id);
      assert.equal(mediaType(res), r['media-type'], id);
    }
  });

  it('serves the network map with its vtag', async () => {
    const res = await get('/alto/networkmap', 'application/alto-networkmap+json');
    const body = res.json<{ meta: { vtag: { 'resource-id': string; tag: string } }; 'network-map': Record<string, { ipv4: string[] }> }>();
    assert.deepEqual(Object.keys(body), ['meta', 'network-map']);
    assert.equal(body.meta.vtag['resource-id'], 'network-map');
    assert.equal(body.meta.vtag.tag, networkMapTag(body['network-map']));
    assert.deepEqual(body['network-map'][S1], { ipv4: ['10.0.0.2/32', '10.0.0.11/32'] });
    assert.deepEqual(body['network-map'][DEFAULT_PID], { ipv4: ['0.0.0.0/0'] });
  });

  it('ties each cost map to the network map by dependent-vtags and states its cost type', async () => {
    const nm = (await get('/alto/networkmap')).json<{ meta: { vtag: unknown } }>();
    for (const m of METRICS) {
      const res = await get(m.uri, 'application/alto-costmap+json');
      assert.equal(mediaType(res), 'application/alto-costmap+json');
      const body = res.json<{ meta: Record<string, unknown>; 'cost-map': unknown }>();
      assert.deepEqual(Object.keys(body), ['meta', 'cost-map']);
      assert.deepEqual(body.meta['dependent-vtags'], [nm.meta.vtag]);
      assert.deepEqual(body.meta['cost-type'], { 'cost-mode': 'numerical', 'cost-metric': m.costType['cost-metric'] });
      assert.deepEqual(body['cost-map'], costMapData(view, m, new PidNames(view.pids())));
    }
  });

  it('changes the network map vtag when hosts change, not when costs do; the cost map vtag follows the costs', async () => {
    const nmTag = async (): Promise<string> => (await get('/alto/networkmap')).json<{ meta: { vtag: { tag: string } } }>().meta.vtag.tag;
    const cmTags = async (): Promise<[string, string]> => {
      const meta = (await get('/alto/costmap/routingcost')).json<{ meta: { vtag: { tag: string }; 'dependent-vtags': { tag: string }[] } }>().meta;
      return [meta.vtag.tag, meta['dependent-vtags'][0]?.tag ?? ''];
    };
    const nm0 = await nmTag();
    const [cm0, dep0] = await cmTags();
    assert.equal(dep0, nm0);

    view.setUtilization(S1, S2, 0.7);
    assert.equal(await nmTag(), nm0, 'a new utilization leaves the network map alone');
    const [cm1, dep1] = await cmTags();
    assert.notEqual(cm1, cm0);
    assert.equal(dep1, nm0);
    const util = (await get('/alto/costmap/bottleneck-util')).json<{ 'cost-map': Record<string, Record<string, number>> }>();
    assert.equal(util['cost-map'][S1]?.[S2], 0.7);

    hosts.push(host(S2, '10.0.0.42'));
    const nm2 = await nmTag();
    assert.notEqual(nm2, nm0, 'a new host changes the network map');
    assert.equal((await cmTags())[1], nm2);
  });

  it('answers 406 when Accept allows neither the ALTO type nor a wildcard', async () => {
    for (const [url, accept] of [['/alto', 'application/json'], ['/alto/networkmap', 'application/alto-costmap+json'], ['/alto/costmap/routingcost', 'text/html']] as const) {
      const res = await get(url, accept);
      assert.equal(res.statusCode, 406, `${url} ${accept}`);
      assert.equal(res.json<{ error: string }>().error, 'not_acceptable');
    }
    assert.equal((await get('/alto/networkmap', '*/*')).statusCode, 200);
  });

  it('filters the cost map by source and destination PIDs, ignoring PIDs it does not define', async () => {
    const res = await filter(
      JSON.stringify({
        'cost-type': { 'cost-mode': 'numerical', 'cost-metric': 'routingcost' },
        pids: { srcs: [S1, 'nosuchpid', DEFAULT_PID], dsts: [S2, S3, 'nosuchpid'] },
      }),
    );
    assert.equal(res.statusCode, 200);
    assert.equal(mediaType(res), 'application/alto-costmap+json');
    const nm = (await get('/alto/networkmap')).json<{ meta: { vtag: unknown } }>();
    assert.deepEqual(res.json(), {
      meta: { 'dependent-vtags': [nm.meta.vtag], 'cost-type': { 'cost-mode': 'numerical', 'cost-metric': 'routingcost' } },
      'cost-map': { [S1]: { [S2]: 1, [S3]: 2 } },
    });
    // Only PIDs it does not define: nothing, not every PID.
    const stale = await filter(JSON.stringify({ 'cost-type': { 'cost-mode': 'numerical', 'cost-metric': 'routingcost' }, pids: { srcs: ['gone'], dsts: [] } }));
    assert.deepEqual(stale.json<{ 'cost-map': unknown }>()['cost-map'], {});
  });

  it('applies constraints to the chosen metric, and empty lists mean every PID', async () => {
    const res = await filter(
      JSON.stringify({
        'cost-type': { 'cost-mode': 'numerical', 'cost-metric': 'priv:meshflow-bottleneck-util' },
        constraints: ['gt 0.2'],
        pids: { srcs: [], dsts: [] },
      }),
    );
    assert.deepEqual(res.json<{ 'cost-map': unknown }>()['cost-map'], { [S1]: { [S3]: 0.25 }, [S2]: { [S3]: 0.5 }, [S3]: { [S2]: 0.95 } });
    const all = await filter(JSON.stringify({ 'cost-type': { 'cost-mode': 'numerical', 'cost-metric': 'routingcost' } }));
    assert.deepEqual(all.json<{ 'cost-map': unknown }>()['cost-map'], costMapData(view, routing, new PidNames(view.pids())));
  });

  it('answers bad filters with application/alto-error+json and the RFC error codes', async () => {
    const cases: [string, Record<string, string>][] = [
      ['{"cost-type":', { code: 'E_SYNTAX' }],
      ['{"pids":{"srcs":[],"dsts":[]}}', { code: 'E_MISSING_FIELD', field: 'cost-type' }],
      ['{"cost-type":{"cost-mode":"numerical","cost-metric":"hopcount"}}', { code: 'E_INVALID_FIELD_VALUE', field: 'cost-type/cost-metric', value: 'hopcount' }],
    ];
    for (const [body, meta] of cases) {
      const res = await filter(body);
      assert.equal(res.statusCode, 400, body);
      assert.equal(mediaType(res), 'application/alto-error+json', body);
      const got = res.json<{ meta: Record<string, string> }>().meta;
      for (const [k, v] of Object.entries(meta)) assert.equal(got[k], v, `${body}: ${k}`);
    }
    const empty = await app.inject({ method: 'POST', url: '/alto/costmap/filtered' });
    assert.equal(empty.statusCode, 400);
    assert.equal(empty.json<{ meta: { code: string } }>().meta.code, 'E_SYNTAX');
  });

  it('takes only the filter media type as a request body', async () => {
    const res = await filter('{"cost-type":{"cost-mode":"numerical","cost-metric":"routingcost"}}', 'application/json');
    assert.equal(res.statusCode, 415);
    assert.equal(res.json<{ error: string }>().error, 'unsupported_media_type');
  });
});

describe('alto: in the controller API', () => {
  it('is registered with a cost map and a network, and documented in OpenAPI', async () => {
    const controller = new Controller();
    const app = buildApi(controller, { costMap: new FakeCostMap(), network: new Network(controller) });
    try {
      await app.ready();
      const doc = (await app.inject('/api/v1/openapi.json')).json<{ paths: Record<string, Record<string, unknown>> }>();
      for (const p of ['/alto', '/alto/networkmap', '/alto/costmap/routingcost', '/alto/costmap/bottleneck-util']) assert.ok(doc.paths[p]?.get, p);
      assert.ok(doc.paths['/alto/costmap/filtered']?.post);
      // No host is known yet: every PID is there, empty, beside the default one.
      const nm = (await app.inject('/alto/networkmap')).json<{ 'network-map': Record<string, { ipv4: string[] }> }>();
      assert.deepEqual(nm['network-map'][S1], { ipv4: [] });
      assert.deepEqual(Object.keys(nm['network-map']), [S1, S2, S3, S4, DEFAULT_PID]);
    } finally {
      await app.close();
    }
  });
});

describe("alto: over the monitor's cost map", () => {
  it('gives hop counts as routingcost and the least loaded path as the utilization', async () => {
    const costMap = diamondCostMap();
    const app = Fastify();
    altoRoutes(app, { costMap, hosts: () => [host(D1, '10.1.0.1'), host(D2, '10.1.0.2'), host(D4, '10.1.0.4')] });
    try {
      await app.ready();
      const routingcost = (await app.inject('/alto/costmap/routingcost')).json<{ 'cost-map': unknown }>();
      assert.deepEqual(routingcost['cost-map'], {
        [D1]: { [D1]: 0, [D2]: 1, [D4]: 2 },
        [D2]: { [D1]: 1, [D2]: 0, [D4]: 1 },
        [D4]: { [D1]: 2, [D2]: 1, [D4]: 0 },
      });
      const nm = (await app.inject('/alto/networkmap')).json<{ meta: { vtag: { tag: string } } }>();
      // d1 -> d2 loaded: the direct hop shows it; d1 -> d4 still has the idle path through d3.
      costMap.updateLoads([{ linkId: linkId(D1, 2, D2, 1), utilization: 0.5, level: 'warning' }]);
      const util = (await app.inject('/alto/costmap/bottleneck-util')).json<{ meta: { 'dependent-vtags': { tag: string }[] }; 'cost-map': Record<string, Record<string, number>> }>();
      assert.equal(util['cost-map'][D1]?.[D2], 0.5);
      assert.equal(util['cost-map'][D1]?.[D4], 0);
      assert.equal(util.meta['dependent-vtags'][0]?.tag, nm.meta.vtag.tag);
    } finally {
      await app.close();
    }
  });
});

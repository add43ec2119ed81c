// The bridge tells each built-in sidecar, per replica, whether the network path to it has room and
// which links it crosses at which level: pure pieces first, then a real Mosquitto with the bridge, a
// stand-in controller API, a sidecar in front of real replicas, and the spans it writes.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { Bridge } from '../../bridge/bridge.ts';
import { connectBus, costColumns, HintPublisher, subscribeHints, topics, type Hint, type HintSubscription, type LinkStateHint, type WeightsHint } from '../../bridge/hints.ts';
import { PathBook } from '../../bridge/paths.ts';
import { defaultPolicyParams, pathHasRoom, replicasWithoutRoom, withHint, initialPolicyState } from '../../bridge/policy.ts';
import { parseRegistry } from '../../bridge/registry.ts';
import { RegistryStore } from '../../bridge/registry-store.ts';
import { parseSidecarConfig } from '../../bridge/sidecar/config.ts';
import { pathAttributes, ReplicaPaths } from '../../bridge/sidecar/paths.ts';
import { BuiltinSidecar } from '../../bridge/sidecar/sidecar.ts';
import { VirtualClock } from '../../bus/clock.ts';
import type { HintBody } from '../../bus/hints.ts';
import { startMosquitto, type Service } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';
import { onePath, P1, P2, P3 } from './support/episode.ts';
import { startReplica, type TestReplica } from './support/replicas.ts';

// h1 (P1) → h2 (P2) crosses L1 then L2; h1 → h3 (P3) crosses L3.
const L1 = `${P1}:1-0000000000000009:1`;
const L2 = `0000000000000009:2-${P2}:1`;
const L3 = `${P1}:2-${P3}:1`;

const registry = parseRegistry({
  services: [
    { name: 'orders', port: 8080 },
    { name: 'stock', port: 8080 },
  ],
  replicas: [
    { id: 'orders-a', service: 'orders', host: 'h2', port: 8080 },
    { id: 'stock-a', service: 'stock', host: 'h2', port: 8081 },
    { id: 'stock-b', service: 'stock', host: 'h3', port: 8081 },
  ],
  sidecars: [{ id: 'web-1', host: 'h1', calls: ['orders', 'stock'] }],
  attachments: { h1: P1, h2: P2, h3: P3 },
});

/** P1's cost row: P2's path at utilization u2 (no room at 1.0), P3's idle. */
const row = (u2: number): Extract<HintBody, { kind: 'cost_row' }> => ({ kind: 'cost_row', srcPid: P1, costs: costColumns([onePath(P2, u2), onePath(P3, 0.1)]) });

function linkState(linkId: string, level: LinkStateHint['level']): Extract<HintBody, { kind: 'link_state' }> {
  const [src = '', dst = ''] = linkId.split('-');
  const end = (s: string) => ({ dpid: s.split(':')[0] ?? '', port: Number(s.split(':')[1]) });
  const u = level === 'congested' ? 0.95 : level === 'warning' ? 0.7 : 0.1;
  return { kind: 'link_state', linkId, src: end(src), dst: end(dst), capacityBps: 1e8, rateBps: u * 1e8, utilization: u, drops: 0, level };
}

describe('path room: the rule (pure)', () => {
  it('a path has no room at availableBps 0, at 95% or more, or congested with load behind it; else it has', () => {
    assert.equal(pathHasRoom(onePath(P2, 0.1), defaultPolicyParams), true);
    assert.equal(pathHasRoom(onePath(P2, 0.9, 'warning'), defaultPolicyParams), true);
    assert.equal(pathHasRoom(onePath(P2, 0.96, 'warning'), defaultPolicyParams), false);
    assert.equal(pathHasRoom({ ...onePath(P2, 0.2), availableBps: 0, worstAvailableBps: 0 }, defaultPolicyParams), false);
    assert.equal(pathHasRoom(onePath(P2, 0.7, 'congested'), defaultPolicyParams), false);
    // A congested level on an idle path (probes, CPU contention) sheds nothing.
    assert.equal(pathHasRoom(onePath(P2, 0.1, 'congested'), defaultPolicyParams), true);
  });

  it('only a fresh row says no room; unreachable replicas and the own switch keep room', () => {
    const sc = registry.sidecars[0]!;
    const state = withHint(initialPolicyState, { ...row(1), v: 2, ts: 1000, seq: 1, ttlMs: 500, source: 'c' } as Hint);
    assert.deepEqual(replicasWithoutRoom(registry, sc, state.costs, 1200), ['orders-a', 'stock-a']);
    assert.deepEqual(replicasWithoutRoom(registry, sc, state.costs, 1600), [], 'stale: never shed');
    const down = withHint(initialPolicyState, { kind: 'cost_row', srcPid: P1, costs: costColumns([onePath(P2, 0, 'down'), onePath(P3, 1)]), v: 2, ts: 1000, seq: 1, ttlMs: 500, source: 'c' } as Hint);
    assert.deepEqual(replicasWithoutRoom(registry, sc, down.costs, 1200), ['stock-b']);
  });
});

describe('path room: the bridge path book (index by link)', () => {
  it('asks the controller once per pair, touches only pairs on a link whose level changed, and asks again when a link on it goes down', async () => {
    const asked: string[] = [];
    let changes = 0;
    let h2Path = [L1, L2];
    const book = new PathBook({
      fetch: async (src, dst) => {
        asked.push(`${src}>${dst}`);
        // h1→h3 is hashed over 4 equal-cost paths; L3 is the one a flow without ports takes.
        return dst === 'h2' ? { links: h2Path, equalCost: 1 } : { links: [L3], equalCost: 4 };
      },
      clock: new VirtualClock(0),
      onChange: () => changes++,
    });
    book.track([['h1', 'h2'], ['h1', 'h3'], ['h1', 'h2']]);
    await waitFor('both paths known', () => book.pathOf('h1', 'h3') !== undefined && book.pathOf('h1', 'h2') !== undefined);
    assert.deepEqual(asked.sort(), ['h1>h2', 'h1>h3']);
    const ls = (linkId: string, level: LinkStateHint['level']) => ({ ...linkState(linkId, level), v: 2, ts: 0, seq: 0, ttlMs: 1, source: 'c' }) as LinkStateHint;
    assert.equal(book.onLinkState(ls(L2, 'warning')), true);
    assert.equal(book.onLinkState(ls(L2, 'warning')), false, 'same level: nothing to do');
    assert.equal(book.onLinkState(ls(`${P3}:9-${P2}:9`, 'congested')), false, 'a link on no tracked path');
    assert.deepEqual(book.pathOf('h1', 'h2'), { path: [{ link: L1 }, { link: L2, level: 'warning' }], equalCost: 1 });
    assert.equal(book.pathOf('h1', 'h3')?.equalCost, 4);
    h2Path = [L3, L2];
    book.onLinkState(ls(L1, 'down'));
    await waitFor('path asked again after its link went down', () => book.pathOf('h1', 'h2')?.path[0]?.link === L3);
    assert.deepEqual(asked.filter((a) => a === 'h1>h2').length, 2);
    assert.ok(changes >= 3);
    // An intent carries h1→h3: its links, moved by path_change, not forwarding's; withdrawn: forwarding's again.
    assert.equal(book.pin('h1', 'h3', [L1, L2]), true);
    const event = (detail: Record<string, unknown>) => ({ v: 1, kind: 'event', event: 'path_change', ts: 0, seq: 0, ttlMs: 1, source: 'c', detail }) as const;
    assert.equal(book.onEvent(event({ src: 'h1', dst: 'h3', toLinks: [L2] })), true);
    assert.deepEqual(book.pathOf('h1', 'h3'), { path: [{ link: L2, level: 'warning' }], equalCost: 1 }, "an intent's path is the only one its flows take");
    book.unpin('h1', 'h3');
    await waitFor('forwarding path again', () => book.pathOf('h1', 'h3')?.path[0]?.link === L3);
    assert.equal(book.pathOf('h1', 'h3')?.equalCost, 4);
    book.close();
  });
  it('asks every path again once links that came up have settled: one pass for a storm of them, none before', async () => {
    const asked: string[] = [];
    const clock = new VirtualClock(0);
    const book = new PathBook({ fetch: async (src, dst) => (asked.push(`${src}>${dst}`), { links: [L1], equalCost: 1 }), clock, onChange: () => undefined, settleMs: 1000 });
    const pairs: [string, string][] = [['h1', 'h2'], ['h1', 'h3']];
    book.track(pairs);
    await waitFor('both paths known', () => asked.length === 2);
    const up = (linkId: string) => ({ v: 1, kind: 'event', event: 'link_up', linkId, ts: 0, seq: 0, ttlMs: 1, source: 'c' }) as const;
    for (let i = 0; i < 50; i++) {
      book.onEvent(up(`${P1}:${i}-${P2}:${i}`));
      clock.advance(10);
      book.track(pairs); // the runner's tick
    }
    await new Promise((r) => setImmediate(r));
    assert.equal(asked.length, 2, 'links still coming up: not yet');
    clock.advance(1000);
    book.track(pairs);
    await waitFor('asked again after the storm settled', () => asked.length === 4);
    book.track(pairs);
    await new Promise((r) => setImmediate(r));
    assert.equal(asked.length, 4, 'once per pair for the whole storm');
    book.close();
  });
});

describe('path room: the sidecar side (virtual clock)', () => {
  it('marks replicas without room, precomputes span attributes, and gives room back once the hint is stale', () => {
    const clock = new VirtualClock(10_000);
    const calls: string[] = [];
    const paths = new ReplicaPaths({ orders: { replicas: [{ id: 'orders-a' }] }, stock: { replicas: [{ id: 'stock-a' }, { id: 'stock-b' }] } }, { setRoom: (s, r, room) => void calls.push(`${s}/${r}=${room}`) }, clock);
    const hint = (replicas: WeightsHint['replicas']): WeightsHint => ({ v: 1, kind: 'weights', ts: 10_000, seq: 1, ttlMs: 3000, source: 'b', sidecarId: 'web-1', services: {}, ...(replicas ? { replicas } : {}) });
    paths.update(hint({ 'orders-a': { room: false, path: [{ link: L1, level: 'ok' }, { link: L2, level: 'congested' }, { link: L3 }] } }));
    assert.deepEqual(calls, ['orders/orders-a=false']);
    assert.deepEqual(paths.attributesOf('orders-a'), {
      'meshflow.path.links': [L1, L2, L3],
      'meshflow.path.levels': ['ok', 'congested', 'unknown'],
      'meshflow.path.worst_level': 'congested',
      'meshflow.path.room': false,
    });
    // A hint without the field: every path has room again.
    paths.update(hint(undefined));
    assert.deepEqual(calls, ['orders/orders-a=false', 'orders/orders-a=true']);
    assert.equal(paths.attributesOf('orders-a'), undefined);
    paths.update(hint({ 'stock-a': { room: false } }));
    clock.advance(2999);
    assert.deepEqual(paths.withoutRoom(), ['stock/stock-a']);
    clock.advance(2);
    assert.deepEqual(paths.withoutRoom(), [], 'stale: room again');
    assert.equal(calls.at(-1), 'stock/stock-a=true');
    assert.deepEqual(pathAttributes({ path: [] }), { 'meshflow.path.links': [], 'meshflow.path.levels': [], 'meshflow.path.worst_level': 'unknown' });
    assert.equal(pathAttributes({ path: [{ link: L1, level: 'ok' }], equalCost: 4 })['meshflow.path.equal_cost'], 4, 'with ECMP the span says the path is one of 4');
    paths.close();
  });
});

// --- end to end ---------------------------------------------------------------------------------

interface Reply {
  status: number;
  replica: string;
  headers: IncomingHttpHeaders;
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function call(port: number, service: string, cls: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', agent, headers: { host: service, 'x-meshflow-priority': cls, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, replica: res.statusCode === 200 ? (JSON.parse(text) as { replica: string }).replica : text, headers: res.headers });
      });
    })
      .on('error', reject)
      .end();
  });
}

interface OtlpSpan {
  traceId: string;
  attributes: { key: string; value: { stringValue?: string; boolValue?: boolean; intValue?: string | number; arrayValue?: { values?: { stringValue?: string }[] } } }[];
}
interface OtlpRequest {
  resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
}
const attr = (s: OtlpSpan, key: string): string | boolean | number | string[] | undefined => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  if (v === undefined) return undefined;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map((x) => x.stringValue ?? '');
  return v.stringValue ?? v.boolValue ?? (v.intValue === undefined ? undefined : Number(v.intValue));
};

async function standInController(): Promise<{ app: FastifyInstance; url: string; asked: string[] }> {
  const app = Fastify();
  const asked: string[] = [];
  app.get<{ Querystring: { src: string; dst: string } }>('/api/v1/paths', async (req, reply) => {
    asked.push(`${req.query.src}>${req.query.dst}`);
    if (req.query.src !== 'h1') return reply.code(404).send({ error: 'unknown_host', message: 'no such host' });
    // As the controller answers with ECMP on: h1→h3 has two equal-cost paths, h1→h2 one.
    if (req.query.dst === 'h2') return { ecmp: true, links: [L1, L2], equalCostPaths: [{ hops: [], links: [L1, L2] }] };
    return { ecmp: true, links: [L3], equalCostPaths: [{ hops: [], links: [L3] }, { hops: [], links: [L2] }] };
  });
  let n = 0;
  app.post('/api/v1/intents', async (_req, reply) => reply.code(201).send({ id: `i-${++n}` }));
  app.delete('/api/v1/intents/:id', async (_req, reply) => reply.code(204).send());
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, asked };
}

describe('path room and path spans end to end (Mosquitto, bridge, sidecar)', function () {
  this.timeout(60_000);
  let mosquitto: Service | undefined;
  let ctl: Awaited<ReturnType<typeof standInController>> | undefined;
  let client: MqttClient | undefined;
  let controller: HintPublisher;
  let bridge: Bridge | undefined;
  let sidecar: BuiltinSidecar | undefined;
  let sub: HintSubscription | undefined;
  let replicas: TestReplica[] = [];
  let dir = '';
  let spansFile = '';
  let port = 0;
  const published: WeightsHint[] = [];
  // The sidecar's clock: frozen unless advanced, so the bridge's hints stay fresh until the test says.
  const clock = new VirtualClock(Date.now());
  const TTL = 4000;
  const tracedId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const staleId = '5bf92f3577b34da6a3ce929d0e0e4737';

  before(async () => {
    mosquitto = await startMosquitto();
    ctl = await standInController();
    dir = await mkdtemp(join(tmpdir(), 'meshflow-path-room-'));
    spansFile = join(dir, 'spans.jsonl');
    replicas = [await startReplica('orders-a'), await startReplica('stock-a'), await startReplica('stock-b')];
    const [oa, sa, sb] = replicas as [TestReplica, TestReplica, TestReplica];
    client = await connectBus(mosquitto.url);
    controller = new HintPublisher(client, { source: 'test-controller' });
    for (const [l, level] of [[L1, 'ok'], [L2, 'warning'], [L3, 'ok']] as const) await controller.publish(linkState(l, level));
    await controller.publish(row(0.1));
    sub = await subscribeHints(client, [topics.weights('web-1')], (h) => void (h.kind === 'weights' && published.push(h)));
    sidecar = new BuiltinSidecar({
      clock,
      mqttUrl: mosquitto.url,
      config: parseSidecarConfig({
        id: 'web-1',
        host: 'h1',
        listen: { port: 0 },
        admin: { port: 0 },
        services: {
          orders: { replicas: [{ id: 'orders-a', host: '127.0.0.1', port: oa.port }] },
          stock: { replicas: [{ id: 'stock-a', host: '127.0.0.1', port: sa.port }, { id: 'stock-b', host: '127.0.0.1', port: sb.port }] },
        },
        ingress: { defaultClass: 'batch' },
        scheduling: { classes: [{ name: 'interactive' }, { name: 'batch' }], concurrencyPerReplica: 8 },
        tracing: { file: spansFile },
      }),
    });
    ({ proxyPort: port } = await sidecar.start());
    bridge = new Bridge({ mqttUrl: mosquitto.url, registry: new RegistryStore(registry), controllerUrl: ctl.url, tickMs: 50, weightsTtlMs: TTL, source: 'test-bridge' });
    await bridge.start();
  });

  after(async () => {
    await bridge?.stop();
    await sub?.close();
    await client?.endAsync();
    await sidecar?.stop();
    await Promise.all(replicas.map((r) => r.close()));
    await ctl?.app.close();
    await mosquitto?.stop();
    agent.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const pathLevels = () => sidecar!.paths.attributesOf('orders-a')?.['meshflow.path.levels'];

  it('carries each replica\'s path with its links\' levels to the sidecar, asked of the controller once per host pair', async () => {
    await waitFor('path of orders-a at the sidecar', () => JSON.stringify(pathLevels()) === '["ok","warning"]');
    assert.deepEqual(sidecar!.paths.attributesOf('orders-a')?.['meshflow.path.links'], [L1, L2]);
    assert.deepEqual(sidecar!.paths.attributesOf('stock-b')?.['meshflow.path.links'], [L3]);
    assert.deepEqual([...new Set(ctl!.asked)].sort(), ['h1>h2', 'h1>h3']);
    assert.equal((await call(port, 'orders', 'batch')).status, 200);
  });

  it('no room on orders-a\'s path: batch to it gets 503 with Retry-After, interactive passes, and stock\'s batch goes to the replica with room', async () => {
    await controller.publish(row(1));
    await waitFor('orders-a marked without room', () => sidecar!.paths.withoutRoom().includes('orders/orders-a'));
    const shed = await call(port, 'orders', 'batch');
    assert.equal(shed.status, 503);
    assert.equal(shed.headers['retry-after'], '1');
    assert.equal((await call(port, 'orders', 'interactive')).status, 200);
    for (let i = 0; i < 10; i++) assert.equal((await call(port, 'stock', 'batch')).replica, 'stock-b');
    const w = published.at(-1);
    assert.equal(w?.replicas?.['orders-a']?.room, false);
  });

  it('a link level change reaches the span of the next request: the path and levels the bridge published', async () => {
    await controller.publish(linkState(L2, 'congested'));
    await waitFor('congested level at the sidecar', () => JSON.stringify(pathLevels()) === '["ok","congested"]');
    const hint = await waitFor('the bridge published the new level', () => [...published].reverse().find((h) => h.replicas?.['orders-a']?.path?.[1]?.level === 'congested'));
    assert.equal((await call(port, 'orders', 'interactive', { traceparent: `00-${tracedId}-00f067aa0ba902b7-01` })).status, 200);
    const expected = hint.replicas?.['orders-a']?.path ?? [];
    assert.deepEqual(expected, [{ link: L1, level: 'ok' }, { link: L2, level: 'congested' }]);
  });

  it('room back: batch passes again', async () => {
    await controller.publish(row(0.1));
    await waitFor('room back for orders-a', () => sidecar!.paths.withoutRoom().length === 0);
    assert.equal((await call(port, 'orders', 'batch')).status, 200);
  });

  it('fail static: with the bridge gone, once the last hint is stale every path has room and spans claim no path', async () => {
    await controller.publish(row(1));
    await waitFor('orders-a without room again', () => sidecar!.paths.withoutRoom().includes('orders/orders-a'));
    assert.equal((await call(port, 'orders', 'batch')).status, 503);
    await bridge!.stop();
    clock.advance(TTL + 1);
    assert.deepEqual(sidecar!.paths.withoutRoom(), []);
    assert.equal((await call(port, 'orders', 'batch', { traceparent: `00-${staleId}-00f067aa0ba902b7-01` })).status, 200);
    assert.equal(sidecar!.paths.attributesOf('orders-a'), undefined);
  });

  it('the spans file holds the path and levels of each hop', async () => {
    await sidecar!.stop();
    const spans = (await readFile(spansFile, 'utf8'))
      .trim()
      .split('\n')
      .flatMap((l) => (JSON.parse(l) as OtlpRequest).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    const traced = spans.find((s) => s.traceId === tracedId);
    assert.ok(traced, 'the traced request has a span');
    assert.equal(attr(traced, 'meshflow.replica'), 'orders-a');
    assert.deepEqual(attr(traced, 'meshflow.path.links'), [L1, L2]);
    assert.deepEqual(attr(traced, 'meshflow.path.levels'), ['ok', 'congested']);
    assert.equal(attr(traced, 'meshflow.path.worst_level'), 'congested');
    assert.equal(attr(traced, 'meshflow.path.room'), false);
    const stockB = spans.find((s) => attr(s, 'meshflow.replica') === 'stock-b');
    assert.deepEqual(stockB && attr(stockB, 'meshflow.path.links'), [L3]);
    assert.equal(stockB && attr(stockB, 'meshflow.path.equal_cost'), 2, 'the path is one of two a connection may take');
    assert.equal(attr(traced, 'meshflow.path.equal_cost'), undefined, 'the only path');
    // The request after the hint went stale claims no path.
    const last = spans.find((s) => s.traceId === staleId);
    assert.ok(last);
    assert.equal(attr(last, 'meshflow.replica'), 'orders-a');
    assert.equal(attr(last, 'meshflow.path.links'), undefined);
  });
});

// The priority lab's waterfall and latency split: spans written by a real sidecar in front of a
// replica that reports its own time (Server-Timing), and a two-hop trace built by hand.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSidecarConfig } from '../../bridge/sidecar/config.ts';
import { BuiltinSidecar } from '../../bridge/sidecar/sidecar.ts';
import { serverTimingMs } from '../../bridge/sidecar/spans.ts';
import { breakdowns, classSplits, parseSpanLines, readSpans, waterfallSection, type HopSpan } from '../../labs/priority/waterfall.ts';

const NS = 1_000_000n;
const T0 = 1_800_000_000_000n;

function otlpLine(sidecar: string, spans: { traceId: string; spanId: string; parent?: string; startMs: number; endMs: number; attrs: Record<string, string | number> }[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.instance.id', value: { stringValue: sidecar } }] },
        scopeSpans: [
          {
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parent ? { parentSpanId: s.parent } : {}),
              startTimeUnixNano: String((T0 + BigInt(s.startMs)) * NS),
              endTimeUnixNano: String((T0 + BigInt(s.endMs)) * NS),
              attributes: Object.entries(s.attrs).map(([key, v]) => ({ key, value: typeof v === 'string' ? { stringValue: v } : Number.isInteger(v) ? { intValue: v } : { doubleValue: v } })),
            })),
          },
        ],
      },
    ],
  });
}

describe('priority lab waterfall: latency split from spans', () => {
  it('splits a two-hop request into queue, network and service, the parts summing to its latency', async () => {
    const t = 'a'.repeat(32);
    // client → a: 100 ms, 10 queued, A says 80 (of which its call to b took 60); a → b: 60 ms, B says 45.
    const text = [
      otlpLine('client', [{ traceId: t, spanId: '1'.repeat(16), startMs: 0, endMs: 100, attrs: { 'meshflow.class': 'high', 'meshflow.replica': 'a', 'http.response.status_code': 200, 'meshflow.queue_ms': 10, 'meshflow.upstream.server_ms': 80 } }]),
      otlpLine('svc-a', [{ traceId: t, spanId: '2'.repeat(16), parent: '1'.repeat(16), startMs: 15, endMs: 75, attrs: { 'meshflow.class': 'high', 'meshflow.replica': 'b-high', 'http.response.status_code': 200, 'meshflow.upstream.server_ms': 45 } }]),
      'not json',
    ].join('\n');
    const spans = parseSpanLines(text);
    assert.equal(spans.length, 2);
    const [r] = breakdowns(spans);
    assert.ok(r);
    assert.equal(r.totalMs, 100);
    assert.equal(r.cls, 'high');
    assert.deepEqual(r.parts, { queue: 10, network: 10 + 15, service: 20 + 45, undivided: 0 });
    assert.equal(r.parts.queue + r.parts.network + r.parts.service + r.parts.undivided, r.totalMs);
    assert.deepEqual([...new Set(r.segments.map((s) => s.hop))], ['client → a', '  svc-a → b-high']);
    // Without the callee's word the rest stays undivided, less the hops it made.
    const [u] = breakdowns(spans.map((s): HopSpan => ({ ...s, serverMs: undefined }) as HopSpan));
    assert.deepEqual(u?.parts, { queue: 10, network: 0, service: 0, undivided: 30 + 60 });
    const [split] = classSplits([r]);
    assert.equal(split?.p99NetworkShare, 0.25);
    const section = await waterfallSection('on', spans, ['high', 'low']);
    assert.match(section.markdown, /\| high \| 1 \| 100\.0 \| 100\.0 \| 10\.0 \| 25\.0 \| 65\.0 \| 0\.0 \| 25% \|/);
    assert.deepEqual([...section.files.keys()], ['waterfall-on.svg', 'split-on.svg']);
    for (const svg of section.files.values()) assert.match(svg, /^<svg[\s\S]*<\/svg>\n$/);
    assert.equal((await waterfallSection('none', [])).markdown, '');
  });

  it('reads Server-Timing durations', () => {
    assert.equal(serverTimingMs('app;dur=12.5, db;desc="x";dur=2.5'), 15);
    assert.equal(serverTimingMs('miss'), undefined);
    assert.equal(serverTimingMs(undefined), undefined);
  });

  it('a real sidecar\'s spans carry its queue time and the replica\'s own time, and split end to end', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshflow-waterfall-'));
    const replica = createServer((_req, res) => {
      setTimeout(() => res.writeHead(200, { 'server-timing': 'app;dur=20' }).end('ok'), 20);
    });
    replica.listen(0, '127.0.0.1');
    await once(replica, 'listening');
    const file = join(dir, 'spans.jsonl');
    const sidecar = new BuiltinSidecar({
      config: parseSidecarConfig({
        id: 'client',
        listen: { port: 0 },
        admin: { port: 0 },
        services: { svc: { replicas: [{ id: 'r1', host: '127.0.0.1', port: (replica.address() as AddressInfo).port }] } },
        scheduling: { classes: [{ name: 'high' }, { name: 'low' }], concurrencyPerReplica: 1 },
        tracing: { file },
      }),
    });
    const { proxyPort } = await sidecar.start();
    const get = (cls: string) =>
      new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port: proxyPort, path: '/', headers: { host: 'svc', 'x-meshflow-priority': cls } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
          .on('error', reject)
          .end();
      });
    try {
      // One slot: of three at once, the later ones wait in the sidecar's queue.
      assert.deepEqual(await Promise.all([get('low'), get('low'), get('high')]), [200, 200, 200]);
    } finally {
      await sidecar.stop();
      replica.close();
    }
    try {
      const spans = await readSpans([file, join(dir, 'missing.jsonl')]);
      assert.equal(spans.length, 3);
      assert.ok(spans.every((s) => s.serverMs === 20 && s.queueMs !== undefined && s.sidecar === 'client'));
      assert.ok(spans.some((s) => (s.queueMs ?? 0) >= 15), 'a request that waited for the slot says so');
      for (const r of breakdowns(spans)) {
        assert.equal(r.parts.service, 20);
        assert.equal(r.parts.undivided, 0);
        assert.ok(Math.abs(r.parts.queue + r.parts.network + r.parts.service - r.totalMs) < 0.01);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

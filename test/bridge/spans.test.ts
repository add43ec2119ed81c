// Spans of the sidecar's hops: a real sidecar in front of a real replica writes OTLP JSON lines to a
// file and posts OTLP/HTTP to a collector endpoint (a plain HTTP server here, reading what arrives).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSidecarConfig } from '../../bridge/sidecar/config.ts';
import { BuiltinSidecar } from '../../bridge/sidecar/sidecar.ts';
import { startReplica } from './support/replicas.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}
interface OtlpRequest {
  resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

const spansOf = (req: OtlpRequest): OtlpSpan[] => req.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
const attr = (s: OtlpSpan, key: string): string | number | undefined => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : undefined);
};

function get(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/orders/1', headers: { host: 'svc', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

describe('built-in sidecar: spans of each hop (OpenTelemetry, OTLP JSON)', () => {
  it('continues the caller\'s trace, names itself as the next parent, and exports class, replica and status to a file and a collector', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshflow-spans-'));
    const posted: OtlpRequest[] = [];
    const collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces' && req.method === 'POST') posted.push(JSON.parse(body) as OtlpRequest);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    const replica = await startReplica('r1');
    const file = join(dir, 'spans.jsonl');
    const sidecar = new BuiltinSidecar({
      config: parseSidecarConfig({
        id: 'traced',
        listen: { port: 0 },
        admin: { port: 0 },
        services: { svc: { replicas: [{ id: 'r1', host: '127.0.0.1', port: replica.port }] } },
        tracing: { file, url: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces` },
      }),
    });
    const { proxyPort } = await sidecar.start();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    try {
      assert.equal(await get(proxyPort, { traceparent: `00-${traceId}-${callerSpan}-01`, 'x-meshflow-priority': 'interactive' }), 200);
      assert.equal(await get(proxyPort, {}), 200);
    } finally {
      // Stopping flushes the spans.
      await sidecar.stop();
      await replica.close();
    }
    try {
      const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as OtlpRequest);
      const fromFile = lines.flatMap(spansOf);
      assert.equal(fromFile.length, 2);
      const hop = fromFile.find((s) => s.traceId === traceId);
      assert.ok(hop, 'the span continues the incoming trace');
      assert.equal(hop.parentSpanId, callerSpan);
      assert.equal(attr(hop, 'meshflow.class'), 'interactive');
      assert.equal(attr(hop, 'meshflow.replica'), 'r1');
      assert.equal(attr(hop, 'http.response.status_code'), 200);
      assert.equal(hop.name, 'GET svc');
      // The replica saw this hop's span as the parent, in the same trace.
      assert.equal(replica.seen[0]?.['traceparent'], `00-${traceId}-${hop.spanId}-01`);
      // A request without a trace starts one; the span has no parent.
      const fresh = fromFile.find((s) => s.traceId !== traceId);
      assert.ok(fresh && !fresh.parentSpanId);
      assert.equal(attr(fresh, 'meshflow.class'), 'default');
      const service = lines[0]?.resourceSpans[0]?.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
      assert.equal(service, 'meshflow-sidecar');
      // The collector got the same spans.
      assert.deepEqual(posted.flatMap(spansOf).map((s) => s.spanId).sort(), fromFile.map((s) => s.spanId).sort());
    } finally {
      collector.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// The sidecar's own OTLP JSON writer against OpenTelemetry's (otlp-transformer's JsonTraceSerializer)
// on the same spans, and the file span processor: every span reaches the file, in batches, on flush.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { exportRequestJson } from '../../bridge/sidecar/otlp-json.ts';
import { FileSpanProcessor } from '../../bridge/sidecar/spans.ts';

/** Spans as they end, kept for the serializers. */
class Kept implements SpanProcessor {
  readonly spans: ReadableSpan[] = [];
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }
  forceFlush = async (): Promise<void> => undefined;
  shutdown = async (): Promise<void> => undefined;
}

const REMOTE = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true };

/** Spans of every shape the writer has a branch for, from two providers (resources) and two tracers (scopes). */
function varied(): ReadableSpan[] {
  const kept = new Kept();
  const a = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'meshflow-sidecar', 'service.instance.id': 'web-1' }), spanProcessors: [kept] });
  const b = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'other', 'host.cores': 2 }, { schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' }), spanProcessors: [kept] });
  const hop = a.getTracer('meshflow-sidecar');
  const versioned = a.getTracer('lib', '1.2.3', { schemaUrl: 'https://example.com/schema' });
  const remote = trace.setSpanContext(context.active(), { ...REMOTE, traceState: new TraceState('vendor=x,other=y') });
  const spans: Span[] = [];
  for (let i = 0; i < 300; i++) {
    // Past the cache of string values per key (url.path is new every time).
    const s = hop.startSpan(i % 2 ? 'GET orders' : 'POST "stock"\n', { kind: SpanKind.CLIENT }, i % 3 ? context.active() : remote);
    s.setAttributes({ 'meshflow.class': i % 2 ? 'batch' : 'interactive', 'url.path': `/orders/${i}?q="é\u2028"`, 'http.response.status_code': 200 + (i % 5), 'meshflow.queue_ms': i / 7, 'meshflow.path.room': i % 4 === 0 });
    s.setAttribute('meshflow.path.links', ['a:1-b:2', `b:3-c:${i}`]);
    s.setAttribute('nums', [1, 2.5, -0]);
    s.setAttribute('flags', [true, false]);
    s.setAttribute('empty', []);
    s.setAttribute('big', 2 ** 60);
    if (i % 5 === 0) s.setStatus({ code: SpanStatusCode.ERROR, message: `upstream "${i}" failed` });
    if (i % 7 === 0) s.setStatus({ code: SpanStatusCode.OK });
    spans.push(s);
  }
  const withEvents = versioned.startSpan('work', { kind: SpanKind.INTERNAL, links: [{ context: { ...REMOTE, traceState: new TraceState('k=v') }, attributes: { why: 'follows' } }, { context: { ...REMOTE, isRemote: false } }] });
  withEvents.addEvent('retry', { attempt: 2 });
  withEvents.addEvent('bare');
  spans.push(withEvents);
  spans.push(b.getTracer('x').startSpan('server side', { kind: SpanKind.SERVER }));
  spans.push(hop.startSpan('no kind'));
  for (const s of spans) s.end();
  return kept.spans;
}

const otel = (spans: ReadableSpan[]): unknown => JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans) as Uint8Array).toString('utf8'));

describe('sidecar OTLP JSON writer', () => {
  it('writes what OpenTelemetry\'s JSON serializer writes, for every kind of attribute, status, event, link, scope and resource', () => {
    const spans = varied();
    assert.deepEqual(JSON.parse(exportRequestJson(spans)), otel(spans));
    // And again, now from its caches of pieces.
    assert.deepEqual(JSON.parse(exportRequestJson(spans)), otel(spans));
    assert.deepEqual(JSON.parse(exportRequestJson(spans.slice(0, 1))), otel(spans.slice(0, 1)));
  });
});

describe('file span processor', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshflow-otlp-file-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const lines = async (file: string): Promise<{ resourceSpans: { scopeSpans: { spans: { spanId: string }[] }[] }[] }[]> =>
    (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

  it('keeps every span, many more than the SDK batch processor holds, in lines of a batch each, written by shutdown', async () => {
    const file = join(dir, 'spans.jsonl');
    // A delay no test waits for: only the batch size and shutdown write.
    const processor = new FileSpanProcessor(file, { maxBatch: 100, delayMs: 60_000 });
    const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 't' }), spanProcessors: [processor] });
    const tracer = provider.getTracer('t');
    const ids = new Set<string>();
    // All in one tick: nothing is written to disk in between.
    for (let i = 0; i < 5050; i++) {
      const s = tracer.startSpan('hop');
      ids.add(s.spanContext().spanId);
      s.end();
    }
    await provider.shutdown();
    const got = await lines(file);
    assert.equal(got.length, 51, '50 full batches and the rest');
    const written = got.flatMap((l) => l.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.spanId))));
    assert.equal(written.length, 5050);
    assert.deepEqual(new Set(written), ids);
    assert.equal(processor.dropped, 0);
  });

  it('forceFlush writes a part batch and resolves once it is in the file; spans not sampled are not written', async () => {
    const file = join(dir, 'spans.jsonl');
    const processor = new FileSpanProcessor(file, { delayMs: 60_000 });
    const provider = new TracerProvider({ spanProcessors: [processor] });
    const tracer = provider.getTracer('t');
    tracer.startSpan('one').end();
    const unsampled = trace.setSpanContext(context.active(), { ...REMOTE, traceFlags: 0 });
    tracer.startSpan('not sampled', {}, unsampled).end();
    await processor.forceFlush();
    const got = await lines(file);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.resourceSpans[0]?.scopeSpans[0]?.spans.length, 1);
    await provider.shutdown();
  });

  it('a file it cannot open counts the spans dropped and does not throw', async () => {
    const processor = new FileSpanProcessor(join(dir, 'no', 'such', 'dir', 'spans.jsonl'), { maxBatch: 1 });
    const provider = new TracerProvider({ spanProcessors: [processor] });
    const tracer = provider.getTracer('t');
    tracer.startSpan('a').end();
    await processor.forceFlush();
    tracer.startSpan('b').end();
    await provider.shutdown();
    assert.equal(processor.dropped, 1, 'the span after the failure is counted');
  });
});

// Spans of the sidecar's hops (OpenTelemetry), exported as OTLP JSON: one
// ExportTraceServiceRequest per line to a file (the layout of the collector's file exporter),
// or over OTLP/HTTP to a collector. Each span carries the request's class and the replica that
// answered, the network path to it with its links' levels (from the bridge, when it said), and
// continues the trace the request arrived with.
//
// Cost per request matters (bench/sidecar.ts --tracing): the file path keeps ended spans in an
// array, writes them in small batches, one line each, with a serializer of its own (otlp-json.ts)
// through one append stream; attributes are set once, not copied for samplers; ids come from a
// pool of random bytes.
import { createWriteStream, type WriteStream } from 'node:fs';
import { context, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { globalErrorHandler } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type IdGenerator, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { randomHex } from './classify.ts';
import { exportRequestJson } from './otlp-json.ts';

export interface TracingSettings {
  /** Append OTLP JSON lines here. */
  readonly file?: string;
  /** An OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. */
  readonly url?: string;
}

export interface FileSpanOptions {
  /**
   * A batch is written once it holds this many spans... The default, 64 hop spans, makes a line of
   * about 75 KB: below V8's large-object size (128 KB), which costs every larger line fresh pages
   * (about 3 µs more system time per span at 1,024 a line). Small batches also let spans die young.
   */
  readonly maxBatch?: number;
  /** ...or this long after its first span (ms). */
  readonly delayMs?: number;
  /**
   * Bytes written but not yet on disk beyond which batches are dropped (and counted) rather than
   * held: a disk that cannot keep up must not take the sidecar's memory with it.
   */
  readonly maxPendingBytes?: number;
}

/**
 * Writes ended spans to a file as OTLP JSON lines, one line per batch, through one append stream
 * (the stream's own queue coalesces lines written while one is in flight). Unlike the SDK's batch
 * processor with an exporter, it drops nothing while the disk keeps up (that one holds 2,048 spans
 * and drops the rest between exports), and serializes a batch in one pass straight to a string.
 * forceFlush and shutdown write what is held and resolve once it has reached the file.
 */
export class FileSpanProcessor implements SpanProcessor {
  private held: ReadableSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly out: WriteStream;
  private readonly maxBatch: number;
  private readonly delayMs: number;
  private readonly maxPendingBytes: number;
  /** Settles once the last line written is on disk (or failed). */
  private written: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  private closed = false;
  /** Spans not written: the stream failed, or too much was waiting for the disk. */
  dropped = 0;

  constructor(file: string, opts: FileSpanOptions = {}) {
    this.maxBatch = opts.maxBatch ?? 64;
    this.delayMs = opts.delayMs ?? 1000;
    this.maxPendingBytes = opts.maxPendingBytes ?? 64 * 1024 * 1024;
    this.out = createWriteStream(file, { flags: 'a' });
    this.out.on('error', (err) => {
      this.failed ??= err;
      globalErrorHandler(err);
    });
  }

  onStart(_span: Span, _parent: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    this.held.push(span);
    if (this.held.length >= this.maxBatch) this.write();
    else this.timer ??= setTimeout(() => this.write(), this.delayMs).unref();
  }

  forceFlush(): Promise<void> {
    this.write();
    return this.written;
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    await this.forceFlush();
    this.closed = true;
    await new Promise<void>((resolve) => this.out.end(resolve));
  }

  private write(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const spans = this.held;
    if (spans.length === 0) return;
    this.held = [];
    if (this.failed || this.out.writableLength > this.maxPendingBytes) {
      this.dropped += spans.length;
      return;
    }
    const line = `${exportRequestJson(spans)}\n`;
    this.written = new Promise((resolve) => this.out.write(line, () => resolve()));
  }
}

const SPAN_OPTIONS = { kind: SpanKind.CLIENT } as const;

/** Span and trace ids from the pool of random bytes the sidecar's trace ids come from (classify.ts). */
const POOLED_IDS: IdGenerator = {
  generateTraceId: () => nonZero(randomHex(16)),
  generateSpanId: () => nonZero(randomHex(8)),
};

/** An all-zero id is invalid (W3C Trace Context); one in 2^64 draws. */
function nonZero(hex: string): string {
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

/** What a hop's span records at its end. */
export interface HopOutcome {
  readonly replica?: string;
  readonly status?: number;
  readonly error?: string;
  readonly retried?: boolean;
  /** Time the request waited in the sidecar for a slot (ms). */
  readonly queuedMs?: number;
  /** The upstream's own time for the request, from its Server-Timing header (ms). */
  readonly serverMs?: number;
}

/**
 * The total of the `dur` figures of a Server-Timing header (W3C Server Timing: `app;dur=12.3, db;dur=4`),
 * or undefined without one: the time the upstream says it spent, so a span can split its duration
 * into the upstream's part and the rest (network and sidecars).
 */
export function serverTimingMs(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  let total: number | undefined;
  for (const m of String(header).matchAll(/;\s*dur=([0-9.]+)/g)) {
    const v = Number(m[1]);
    if (Number.isFinite(v)) total = (total ?? 0) + v;
  }
  return total;
}

/** The span attributes of the path to a replica, worked out when the bridge's hint arrived (paths.ts). */
export interface PathAttributesSource {
  attributesOf(replica: string): Attributes | undefined;
}

export class HopTracer {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  /** Where each hop's path attributes come from; set once the sidecar holds them. */
  paths: PathAttributesSource | undefined;

  constructor(sidecarId: string, settings: TracingSettings) {
    const processors: SpanProcessor[] = [];
    if (settings.file) processors.push(new FileSpanProcessor(settings.file));
    // The SDK drops spans past maxQueueSize waiting (2,048 by default: under a second of 5,000 requests/s);
    // 32,768 spans of about 1.2 KB hold several seconds of a slow collector, near the file path's bound.
    if (settings.url) processors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: settings.url }), scheduledDelayMillis: 1000, maxQueueSize: 32_768, maxExportBatchSize: 512 }));
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'meshflow-sidecar', 'service.instance.id': sidecarId }),
      idGenerator: POOLED_IDS,
      spanProcessors: processors,
    });
    this.tracer = this.provider.getTracer('meshflow-sidecar');
  }

  /**
   * Starts the span of one hop, as a child of the incoming traceparent (checked by classify.ts) or
   * as the root of a new trace; returns it and the traceparent to send on, naming this span as parent.
   */
  start(service: string, cls: string, method: string, path: string, incoming: string | undefined): { span: Span; traceparent: string } {
    let parent = context.active();
    if (incoming !== undefined) {
      // 00-<trace id>-<parent id>-<flags>, checked and lowercased by classify.ts.
      const traceFlags = Number.parseInt(incoming.slice(53, 55), 16) & TraceFlags.SAMPLED;
      parent = trace.setSpanContext(parent, { traceId: incoming.slice(3, 35), spanId: incoming.slice(36, 52), traceFlags, isRemote: true });
    }
    const span = this.tracer.startSpan(`${method} ${service}`, SPAN_OPTIONS, parent);
    // Set on the span, not given to startSpan: that copies and checks them twice more (for samplers, which here ignore them).
    span.setAttribute('meshflow.service', service);
    span.setAttribute('meshflow.class', cls);
    span.setAttribute('http.request.method', method);
    span.setAttribute('url.path', path);
    const sc = span.spanContext();
    return { span, traceparent: `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags === TraceFlags.SAMPLED ? '01' : sc.traceFlags.toString(16).padStart(2, '0')}` };
  }

  end(span: Span, outcome: HopOutcome): void {
    if (outcome.replica !== undefined) {
      span.setAttribute('meshflow.replica', outcome.replica);
      // meshflow.path.links / .levels / .worst_level (/ .room): the path as the bridge last described it.
      const path = this.paths?.attributesOf(outcome.replica);
      if (path !== undefined) span.setAttributes(path);
    }
    if (outcome.status !== undefined) span.setAttribute('http.response.status_code', outcome.status);
    if (outcome.retried) span.setAttribute('meshflow.retried', true);
    if (outcome.queuedMs !== undefined) span.setAttribute('meshflow.queue_ms', outcome.queuedMs);
    if (outcome.serverMs !== undefined) span.setAttribute('meshflow.upstream.server_ms', outcome.serverMs);
    if (outcome.error !== undefined || (outcome.status ?? 0) >= 500) span.setStatus({ code: SpanStatusCode.ERROR, ...(outcome.error ? { message: outcome.error } : {}) });
    span.end();
  }

  async close(): Promise<void> {
    await this.provider.forceFlush();
    await this.provider.shutdown();
  }
}

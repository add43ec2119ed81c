// Spans of the sidecar's hops (OpenTelemetry), exported as OTLP JSON: one
// ExportTraceServiceRequest per line to a file (the layout of the collector's file exporter),
// or over OTLP/HTTP to a collector. Each span carries the request's class and the replica that
// answered, the network path to it with its links' levels (from the bridge, when it said), and
// continues the trace the request arrived with.
import { appendFile } from 'node:fs/promises';
import { context, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';

export interface TracingSettings {
  /** Append OTLP JSON lines here. */
  readonly file?: string;
  /** An OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. */
  readonly url?: string;
}

/** Appends each batch as one line of OTLP JSON. */
class FileSpanExporter implements SpanExporter {
  private pending: Promise<void> = Promise.resolve();
  constructor(private readonly file: string) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const body = JsonTraceSerializer.serializeRequest(spans);
    if (!body) return done({ code: ExportResultCode.FAILED, error: new Error('spans could not be serialized') });
    this.pending = this.pending
      .then(() => appendFile(this.file, `${Buffer.from(body).toString('utf8')}\n`))
      .then(
        () => done({ code: ExportResultCode.SUCCESS }),
        (error: Error) => done({ code: ExportResultCode.FAILED, error }),
      );
  }

  async forceFlush(): Promise<void> {
    await this.pending;
  }

  async shutdown(): Promise<void> {
    await this.pending;
  }
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
    const exporters: SpanExporter[] = [];
    if (settings.file) exporters.push(new FileSpanExporter(settings.file));
    if (settings.url) exporters.push(new OTLPTraceExporter({ url: settings.url }));
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'meshflow-sidecar', 'service.instance.id': sidecarId }),
      spanProcessors: exporters.map((e) => new BatchSpanProcessor({ exporter: e, scheduledDelayMillis: 1000 })),
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
      const [, traceId = '', spanId = '', flags = '01'] = incoming.split('-');
      parent = trace.setSpanContext(parent, { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true });
    }
    const span = this.tracer.startSpan(
      `${method} ${service}`,
      { kind: SpanKind.CLIENT, attributes: { 'meshflow.service': service, 'meshflow.class': cls, 'http.request.method': method, 'url.path': path } },
      parent,
    );
    const sc = span.spanContext();
    return { span, traceparent: `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags.toString(16).padStart(2, '0')}` };
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

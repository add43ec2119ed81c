// One timed request of a load generator (the open loop in main.ts, the closed loop of the priority
// lab): sent with the service's Host header and, when tracing, a fresh W3C traceparent; recorded
// when it ends (answer, failure or timeout) with what the last service hop said it saw.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { traceKept, type RequestRecord } from './record.ts';

export interface Target {
  readonly url: URL;
  /** Host header: the service the sidecar routes by. */
  readonly service?: string;
  readonly agent: Agent;
  readonly timeoutMs: number;
  readonly tag: string;
  readonly trace: boolean;
}

/** Sends one request; its latency counts from `due` (ms epoch), the time it was meant to go. */
export function timedRequest(t: Target, due: number): Promise<RequestRecord> {
  return new Promise((resolve) => {
    const traceparent = t.trace ? `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` : undefined;
    let seen: { cls?: string; trace?: string } = {};
    let bytes = 0;
    let finished = false;
    const finish = (status: number, replica: string | undefined, error?: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve({
        due: Math.round(due),
        latencyMs: Math.round((Date.now() - due) * 100) / 100,
        status,
        tag: t.tag,
        bytes,
        ...(replica ? { replica } : {}),
        ...(error ? { error } : {}),
        ...(seen.cls !== undefined ? { seenClass: seen.cls } : {}),
        ...(traceparent !== undefined && status !== 0 ? { traceKept: traceKept(traceparent, seen.trace) } : {}),
      });
    };
    const req = request(
      {
        host: t.url.hostname,
        port: t.url.port,
        path: t.url.pathname + t.url.search,
        agent: t.agent,
        headers: { ...(t.service ? { host: t.service } : {}), ...(traceparent ? { traceparent } : {}) },
      },
      (res) => {
        const replica = res.headers['x-meshflow-replica'];
        const cls = res.headers['x-meshflow-class'];
        const trace = res.headers['x-meshflow-trace'];
        seen = { ...(typeof cls === 'string' && cls !== '' ? { cls } : {}), ...(typeof trace === 'string' && trace !== '' ? { trace } : {}) };
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => finish(res.statusCode ?? 0, Array.isArray(replica) ? replica[0] : replica));
        res.on('error', (e) => finish(0, undefined, e.message));
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error('timeout'));
      finish(0, undefined, 'timeout');
    }, t.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish(0, undefined, e.code ?? e.message));
    req.end();
  });
}

/** The flags both generators take (their own: --rate, or --concurrency). */
export const TARGET_FLAGS = {
  url: { type: 'string' },
  service: { type: 'string' },
  duration: { type: 'string' },
  out: { type: 'string' },
  'timeout-ms': { type: 'string', default: '10000' },
  'start-at': { type: 'string' },
  trace: { type: 'boolean', default: false },
} as const;

export interface TargetFlags {
  readonly url?: string;
  readonly service?: string;
  readonly duration?: string;
  readonly out?: string;
  readonly tag?: string;
  readonly 'timeout-ms'?: string;
  readonly 'start-at'?: string;
  readonly trace?: boolean;
}

export function need(name: string, v: string | undefined): string {
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

/** The target, run length, output file and start time from the shared flags; one connection per request in flight. */
export function targetFrom(values: TargetFlags, defaultTag: string): { target: Target; durationMs: number; out: string; startMs: number } {
  const durationMs = Number(need('duration', values.duration)) * 1000;
  if (!(durationMs > 0)) throw new Error('--duration must be positive');
  return {
    target: {
      url: new URL(need('url', values.url)),
      ...(values.service ? { service: values.service } : {}),
      agent: new Agent({ keepAlive: true, maxSockets: Infinity }),
      timeoutMs: Number(values['timeout-ms'] ?? 10_000),
      tag: values.tag ?? defaultTag,
      trace: values.trace === true,
    },
    durationMs,
    out: need('out', values.out),
    startMs: values['start-at'] ? Number(values['start-at']) : Date.now() + 200,
  };
}

// Attacks on the OpenFlow port, as functions of (where the port is, how much): the reliability
// tests run them small, bench/soak.ts can run them long. Each returns what it saw; none asserts.
import { connect, type Socket } from 'node:net';
import { FakeSwitch } from './fake-switch.ts';
import { encode } from 'openflow-ts';

export interface OfTarget {
  readonly port: number;
  readonly host?: string;
  /** Client identity for a TLS port. */
  readonly tls?: { readonly key?: Buffer; readonly cert?: Buffer; readonly ca: Buffer };
}

const host = (t: OfTarget): string => t.host ?? '127.0.0.1';

/** Opens `count` TCP connections that never say a word. The caller closes them (closeAll). */
export async function idleFlood(t: OfTarget, count: number): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = connect(t.port, host(t));
    s.on('error', () => undefined);
    // Reading (and discarding) lets the socket see the controller's end of it.
    s.resume();
    out.push(s);
    await new Promise<void>((resolve) => {
      s.once('connect', () => resolve());
      s.once('close', () => resolve());
    });
  }
  return out;
}

export function closeAll(sockets: readonly Socket[]): void {
  for (const s of sockets) s.destroy();
}

/** How many of `sockets` the far end has closed. */
export const closedCount = (sockets: readonly Socket[]): number => sockets.filter((s) => s.destroyed || s.readableEnded).length;

/**
 * `count` connections that send a valid HELLO one byte every `byteEveryMs` (never a features
 * reply): each is alive by any byte-level measure and never completes a handshake. Returns the
 * sockets; the controller should close them at its handshake deadline.
 */
export async function slowloris(t: OfTarget, count: number, byteEveryMs: number): Promise<{ sockets: Socket[]; stop: () => void }> {
  const hello = encode({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] });
  const sockets = await idleFlood(t, count);
  const sent = new Map<Socket, number>();
  const timer = setInterval(() => {
    for (const s of sockets) {
      if (s.destroyed) continue;
      const i = sent.get(s) ?? 0;
      // After the HELLO, a byte of a features reply that never ends.
      s.write(i < hello.length ? hello.subarray(i, i + 1) : Buffer.from([i === hello.length ? 4 : 0]));
      sent.set(s, i + 1);
    }
  }, byteEveryMs);
  return { sockets, stop: () => (clearInterval(timer), closeAll(sockets)) };
}

/**
 * Connects a fake switch claiming `dpid` (a live switch's, say) and waits until the controller
 * closes it or `waitMs` passes. `closedByController`: the claim was refused.
 */
export async function impersonate(t: OfTarget, dpid: bigint, waitMs: number, answerEcho = true): Promise<{ closedByController: boolean; handshaken: boolean; fake: FakeSwitch }> {
  const fake = new FakeSwitch({ port: t.port, host: t.host, dpid, answerEcho, tls: t.tls });
  let handshaken = false;
  void fake.handshaken.then(() => (handshaken = true));
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([fake.closed.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), waitMs)))]);
  clearTimeout(timer);
  return { closedByController: closed, handshaken, fake };
}

export interface ChurnFigures {
  /** Fake switches that completed the handshake, then left. */
  readonly completed: number;
  /** Ones the controller closed or that never finished. */
  readonly failed: number;
  readonly ms: number;
}

/**
 * `count` throwaway datapath ids, `concurrency` at a time: each connects, completes the handshake
 * and leaves at once. Datapath ids are firstDpid, firstDpid + 1, ...
 */
export async function throwawayDpids(t: OfTarget, opts: { count: number; concurrency?: number; firstDpid?: bigint; stepTimeoutMs?: number }): Promise<ChurnFigures> {
  const first = opts.firstDpid ?? 0xdead_0000_0000n;
  const stepTimeoutMs = opts.stepTimeoutMs ?? 5000;
  let next = 0;
  let completed = 0;
  let failed = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < opts.count) {
      const i = next++;
      const fake = new FakeSwitch({ port: t.port, host: t.host, dpid: first + BigInt(i), tls: t.tls });
      let timer: NodeJS.Timeout | undefined;
      const ok = await Promise.race([
        fake.handshaken.then(() => true),
        fake.closed.then(() => false),
        new Promise<false>((r) => (timer = setTimeout(() => r(false), stepTimeoutMs))),
      ]);
      clearTimeout(timer);
      // A graceful leave, so that the last answer reaches the controller; a peer that never
      // closes its side is cut after the step timeout.
      fake.leave();
      const cut = setTimeout(() => fake.end(), stepTimeoutMs);
      await fake.closed;
      clearTimeout(cut);
      if (ok) completed++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker));
  return { completed, failed, ms: performance.now() - started };
}

export interface MetricsSize {
  /** The whole /metrics answer. */
  readonly bytes: number;
  /** meshflow_* sample lines, and their bytes (process_* and nodejs_* series come and go with the runtime: GC kinds, say). */
  readonly series: number;
  readonly seriesBytes: number;
  /** Sample lines that carry a dpid label. */
  readonly dpidSeries: number;
  /** Which datapath ids those lines name. */
  readonly dpids: ReadonlySet<string>;
}

export async function metricsSize(apiUrl: string): Promise<MetricsSize> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const ours = text.split('\n').filter((l) => l.startsWith('meshflow_'));
  return {
    bytes: Buffer.byteLength(text),
    series: ours.length,
    seriesBytes: ours.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0),
    dpidSeries: ours.filter((l) => l.includes('dpid="')).length,
    dpids: new Set(ours.flatMap((l) => /dpid="([0-9a-f]+)"/.exec(l)?.[1] ?? [])),
  };
}

/** meshflow_openflow_refused_total by cause, from /metrics. */
export async function refusals(apiUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^meshflow_openflow_refused_total\{cause="([a-z_]+)"\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

export interface OpenFlowSoakFigures {
  readonly churn: ChurnFigures;
  readonly metricsBefore: MetricsSize;
  readonly metricsAfter: MetricsSize;
  /** Idle connections the controller closed out of `idle` opened. */
  readonly idleClosed: number;
  readonly refusals: Record<string, number>;
}

/**
 * The long version for bench/soak.ts: `throwaways` datapath ids (the figure is 10,000),
 * then an idle flood of `idle` connections held for `holdMs`, against a controller at `target`
 * whose API is at `apiUrl`. /metrics before and after the churn should match (series and dpid
 * series; bytes within a few hundred).
 */
export async function openflowSoak(target: OfTarget, apiUrl: string, opts: { throwaways?: number; idle?: number; holdMs?: number } = {}): Promise<OpenFlowSoakFigures> {
  const metricsBefore = await metricsSize(apiUrl);
  const churn = await throwawayDpids(target, { count: opts.throwaways ?? 10_000, concurrency: 16, firstDpid: 0xdead_0100_0000n });
  // The controller sees each leave after the fake has gone: give it a moment to catch up.
  await new Promise((r) => setTimeout(r, 500));
  const metricsAfter = await metricsSize(apiUrl);
  const flood = await idleFlood(target, opts.idle ?? 1000);
  await new Promise((r) => setTimeout(r, opts.holdMs ?? 2000));
  const idleClosed = closedCount(flood);
  closeAll(flood);
  return { churn, metricsBefore, metricsAfter, idleClosed, refusals: await refusals(apiUrl) };
}

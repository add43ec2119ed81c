// Refused connects, publishes and subscribes: counted per reason for /metrics, and logged as
// at most one line per interval with the counts since the last line, so an attacker (or a
// misconfigured client in a reconnect loop) cannot flood the log.
import { systemClock, type Clock } from '../clock.ts';

export type RefusalReason = 'anonymous' | 'bad_password' | 'publish' | 'subscribe' | 'tls_handshake';
export const REFUSAL_REASONS: readonly RefusalReason[] = ['anonymous', 'bad_password', 'publish', 'subscribe', 'tls_handshake'];

export interface RefusalLog {
  warn(obj: object, msg: string): void;
}

export interface Refusal {
  readonly reason: RefusalReason;
  readonly username?: string;
  readonly clientId?: string;
  readonly topic?: string;
}

export class RefusalCounter {
  private readonly counts = new Map<RefusalReason, number>(REFUSAL_REASONS.map((r) => [r, 0]));
  private pending = new Map<RefusalReason, number>();
  private lastLogAt = Number.NEGATIVE_INFINITY;
  private readonly clock: Clock;
  private readonly intervalMs: number;

  constructor(
    private readonly log?: RefusalLog,
    opts: { clock?: Clock; intervalMs?: number } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.intervalMs = opts.intervalMs ?? 10_000;
  }

  record(r: Refusal): void {
    this.counts.set(r.reason, (this.counts.get(r.reason) ?? 0) + 1);
    this.pending.set(r.reason, (this.pending.get(r.reason) ?? 0) + 1);
    const now = this.clock.now();
    if (now - this.lastLogAt < this.intervalMs) return;
    // The first refusal of a quiet period is logged with its details; the rest as counts.
    this.log?.warn({ ...r, refusedSinceLastLine: Object.fromEntries(this.pending) }, `bus: refused ${r.reason}${r.topic ? ` on ${r.topic}` : ''}`);
    this.pending = new Map();
    this.lastLogAt = now;
  }

  /** Counts since start, per reason (every reason present, zeros included). */
  snapshot(): Readonly<Record<RefusalReason, number>> {
    return Object.fromEntries(this.counts) as Record<RefusalReason, number>;
  }

  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  /** Prometheus text lines, for whoever serves /metrics. */
  metricsText(name = 'meshflow_bus_refusals_total'): string {
    const lines = [`# HELP ${name} Connects, publishes and subscribes the embedded broker refused, by reason.`, `# TYPE ${name} counter`];
    for (const [reason, n] of this.counts) lines.push(`${name}{reason="${reason}"} ${n}`);
    return `${lines.join('\n')}\n`;
  }
}

// Warnings that an outside party can make us repeat (malformed OpenFlow messages, refused bus
// clients, invalid hints) become a few lines and a count: the first `burst` of a kind in a window are
// logged as they come, the rest are counted and summed up in one line when the window ends
// ("… and N more in the last 10 s"). Counting what was refused is /metrics' job; this only keeps
// the log readable and its size bounded under a flood.
import type { Logger } from 'pino';
import { systemClock, type Clock, type Cancel } from './clock.ts';

export type LimitedLevel = 'warn' | 'info' | 'error';

/** The part of a pino logger this needs. */
export type LogSink = Pick<Logger, LimitedLevel>;

export interface LogLimiterOptions {
  /** Length of one window (default 10 s). */
  readonly windowMs?: number;
  /** Lines of one kind logged in full per window before the rest are only counted (default 5). */
  readonly burst?: number;
  /** Kinds tracked at once; beyond it, new kinds share one (default 256). Bounds memory when keys carry ids. */
  readonly maxKinds?: number;
  readonly clock?: Clock;
}

interface Window {
  logged: number;
  suppressed: number;
  readonly level: LimitedLevel;
  readonly msg: string;
  /** Fields of the last suppressed line, so the summary shows an example. */
  last: Record<string, unknown>;
  readonly cancel: Cancel;
}

const OVERFLOW_KIND = '(other kinds)';

export class LogLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private readonly burst: number;
  private readonly maxKinds: number;
  private readonly clock: Clock;
  /** Lines suppressed since this limiter was made, all kinds. */
  suppressedTotal = 0;

  constructor(
    private readonly log: LogSink | undefined,
    opts: LogLimiterOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 10_000;
    this.burst = opts.burst ?? 5;
    this.maxKinds = opts.maxKinds ?? 256;
    this.clock = opts.clock ?? systemClock;
  }

  /** Logs `msg` at warn, unless `kind` (default: msg) has had its burst in this window. */
  warn(fields: Record<string, unknown>, msg: string, kind: string = msg): void {
    this.write('warn', fields, msg, kind);
  }

  info(fields: Record<string, unknown>, msg: string, kind: string = msg): void {
    this.write('info', fields, msg, kind);
  }

  error(fields: Record<string, unknown>, msg: string, kind: string = msg): void {
    this.write('error', fields, msg, kind);
  }

  /** Writes the pending summaries now and forgets every window (at shutdown). */
  flush(): void {
    for (const [kind, w] of [...this.windows]) this.close(kind, w);
  }

  private write(level: LimitedLevel, fields: Record<string, unknown>, msg: string, kindIn: string): void {
    if (!this.log) return;
    const kind = this.windows.has(kindIn) || this.windows.size < this.maxKinds ? kindIn : OVERFLOW_KIND;
    let w = this.windows.get(kind);
    if (!w) {
      w = { logged: 0, suppressed: 0, level, msg, last: fields, cancel: this.clock.setTimeout(() => this.closeKind(kind), this.windowMs) };
      this.windows.set(kind, w);
    }
    if (w.logged < this.burst) {
      w.logged++;
      this.log[level](fields, msg);
      return;
    }
    w.suppressed++;
    w.last = fields;
    this.suppressedTotal++;
  }

  private closeKind(kind: string): void {
    const w = this.windows.get(kind);
    if (w) this.close(kind, w);
  }

  private close(kind: string, w: Window): void {
    w.cancel();
    this.windows.delete(kind);
    if (w.suppressed === 0 || !this.log) return;
    const seconds = Math.round(this.windowMs / 1000);
    // Past maxKinds, one window counts every new kind: say so rather than name only the first.
    const msg = kind === OVERFLOW_KIND ? `${w.msg} (and other kinds)` : w.msg;
    this.log[w.level]({ ...w.last, suppressed: w.suppressed, windowMs: this.windowMs }, `${msg} … and ${w.suppressed} more in the last ${seconds} s`);
  }
}

// The shaping rate of switch ports, found by asking tc about the interface that bears the port's
// name in the controller's own network namespace: what a Mininet TCLink on the same machine sets
// (an HTB class under the root qdisc, or a root TBF). One `tc -j qdisc show` covers every
// interface; `tc class show` is asked only of interfaces whose root qdisc is HTB (iproute2 6.1
// prints HTB classes as text even with -j, so the class listing is read as text). Reads run in a
// child process with a timeout, at most one round at a time: when a watched port comes up, and
// every refresh period; never per statistics poll.
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';
import { systemClock, type Cancel, type Clock } from '../../bus/clock.ts';
import { parseRate } from './capacity.ts';

/** Runs tc with these arguments and gives its standard output. */
export type RunTc = (args: readonly string[], timeoutMs: number) => Promise<string>;

export const runTc: RunTc = (args, timeoutMs) =>
  new Promise((resolve, reject) => {
    execFile('tc', [...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });

/** An interface's root qdisc, as much of it as capacity needs. */
export interface RootQdisc {
  readonly dev: string;
  readonly kind: string;
  /** "5:" */
  readonly handle: string;
  /** TBF: its rate in bit/s. */
  readonly rateBps?: number;
  /** HTB: the class unclassified traffic goes to ("5:1"), when it has one. */
  readonly defaultClass?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Root qdiscs from `tc -j qdisc show` (every device) or `tc -j qdisc show dev <if>` (give `dev`). */
export function parseRootQdiscs(json: string, dev?: string): RootQdisc[] {
  const doc: unknown = JSON.parse(json.trim() === '' ? '[]' : json);
  if (!Array.isArray(doc)) return [];
  const out: RootQdisc[] = [];
  for (const q of doc) {
    if (!isObject(q) || q.root !== true || typeof q.kind !== 'string') continue;
    const name = typeof q.dev === 'string' ? q.dev : dev;
    if (name === undefined) continue;
    const handle = typeof q.handle === 'string' ? q.handle : '0:';
    const opts = isObject(q.options) ? q.options : {};
    if (q.kind === 'tbf' && typeof opts.rate === 'number') {
      // tc's JSON gives TBF rates in bytes per second.
      out.push({ dev: name, kind: q.kind, handle, rateBps: opts.rate * 8 });
    } else if (q.kind === 'htb') {
      const def = typeof opts.default === 'string' ? parseInt(opts.default, 16) : typeof opts.default === 'number' ? opts.default : 0;
      const major = handle.split(':')[0] ?? '';
      out.push({ dev: name, kind: q.kind, handle, ...(def > 0 ? { defaultClass: `${major}:${def.toString(16)}` } : {}) });
    } else {
      out.push({ dev: name, kind: q.kind, handle });
    }
  }
  return out;
}

/**
 * The rate an HTB tree gives unclassified traffic, from `tc class show dev <if>` text: the
 * default class's rate when there is one, else the fastest class at the root.
 */
export function htbRate(text: string, root: RootQdisc): number | undefined {
  let fastestRoot: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^class htb (\S+) (root|parent (\S+))\b.*?\brate (\S+)/.exec(line.trim());
    if (m === null) continue;
    let bps: number;
    try {
      bps = parseRate(m[4] ?? '');
    } catch {
      continue;
    }
    if (m[1] === root.defaultClass) return bps;
    if (m[2] === 'root' || m[3] === root.handle) fastestRoot = Math.max(fastestRoot ?? 0, bps);
  }
  return fastestRoot;
}

export interface ShapingOptions {
  /** How often every watched interface is read again (default 30 s). */
  readonly refreshMs?: number;
  /**
   * After a port comes up, one more read this much later (default 2 s): Mininet re-applies a
   * TCLink's qdisc when the switch starts, so the first read may fall between removal and re-adding.
   */
  readonly settleMs?: number;
  /** A tc run that takes longer is killed and counts as no answer (default 2 s). */
  readonly timeoutMs?: number;
  readonly run?: RunTc;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** Watches interfaces by name and reports each one's shaping rate (undefined: none found) after every read. */
export class ShapingWatcher {
  readonly refreshMs: number;
  readonly counters = { rounds: 0, failures: 0 };
  private readonly names = new Set<string>();
  private readonly timeoutMs: number;
  private readonly settleMs: number;
  private settleTimer: Cancel | undefined;
  private readonly run: RunTc;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private stopTimer: Cancel | undefined;
  private running: Promise<void> | undefined;
  private queued = false;
  private stopped = false;
  /** tc is not installed: nothing to ask, ever. */
  private absent = false;

  constructor(
    private readonly report: (name: string, bps: number | undefined) => void,
    opts: ShapingOptions = {},
  ) {
    this.refreshMs = opts.refreshMs ?? 30_000;
    this.timeoutMs = opts.timeoutMs ?? 2_000;
    this.settleMs = opts.settleMs ?? 2_000;
    this.run = opts.run ?? runTc;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
  }

  start(): void {
    this.stopped = false;
    this.stopTimer = this.clock.setInterval(() => this.refresh(), this.refreshMs);
  }

  stop(): void {
    this.stopped = true;
    this.stopTimer?.();
    this.stopTimer = undefined;
    this.settleTimer?.();
    this.settleTimer = undefined;
  }

  /** Reads this interface soon (with any others asked for in the same burst). */
  watch(name: string): void {
    this.names.add(name);
    this.refresh();
    if (this.settleTimer === undefined && !this.stopped) {
      this.settleTimer = this.clock.setTimeout(() => {
        this.settleTimer = undefined;
        this.refresh();
      }, this.settleMs);
    }
  }

  forget(name: string): void {
    this.names.delete(name);
  }

  /** One round soon; a burst of requests is one round, and a round is never stacked on another. */
  refresh(): void {
    if (this.stopped || this.absent) return;
    this.queued = true;
    if (this.running === undefined) queueMicrotask(() => this.begin());
  }

  /** Resolves when the current and queued rounds are done (for tests and orderly stops). */
  async settled(): Promise<void> {
    await new Promise<void>((r) => queueMicrotask(r));
    while (this.running !== undefined) await this.running;
  }

  private begin(): void {
    if (this.running !== undefined || !this.queued || this.stopped) return;
    this.queued = false;
    this.running = this.round().finally(() => {
      this.running = undefined;
      // Asked for again while this round ran: the interfaces may have changed since it read them.
      if (this.queued) this.begin();
    });
  }

  private async round(): Promise<void> {
    if (this.names.size === 0) return;
    this.counters.rounds++;
    let roots: Map<string, RootQdisc>;
    try {
      roots = new Map(parseRootQdiscs(await this.run(['-j', 'qdisc', 'show'], this.timeoutMs)).map((q) => [q.dev, q]));
    } catch (err) {
      this.failed(err);
      return;
    }
    const rates = new Map<string, number | undefined>();
    for (const name of this.names) {
      const root = roots.get(name);
      if (root?.kind === 'tbf') rates.set(name, root.rateBps);
      else if (root?.kind === 'htb') {
        try {
          rates.set(name, htbRate(await this.run(['class', 'show', 'dev', name], this.timeoutMs), root));
        } catch (err) {
          // The interface went away between the two reads, or tc hung: no rate this round.
          this.failed(err);
          rates.set(name, undefined);
        }
      } else rates.set(name, undefined);
    }
    if (this.stopped) return;
    for (const [name, bps] of rates) if (this.names.has(name)) this.report(name, bps);
  }

  private failed(err: unknown): void {
    this.counters.failures++;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      this.absent = true;
      this.log?.info('tc is not installed: link capacities are not read from interface shaping');
      return;
    }
    this.log?.debug({ err: (err as Error).message }, 'reading interface shaping failed');
  }
}

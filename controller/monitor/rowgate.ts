// Which cost rows go on the bus, and when. A row is sent when it changed materially since it was
// last sent (a level, hops, fewer paths, a utilization moved by more than delta, or the
// aggregate room by more than that fraction), at most once per pid per interval, except when its
// structure changed (a link went down: readers must hear at once), and again every refresh so
// the retained copy never goes stale.
import type { CostEntry, CostMapChange } from './costmap.ts';

export interface RowGateOptions {
  /** A utilization move (or relative move of the aggregate room) above this is material. Default 0.05. */
  readonly delta?: number;
  /** At most one row per pid per this many ms, structure changes excepted. Default 1000. */
  readonly minIntervalMs?: number;
  /** A row is sent again at least this often (ms; up to a quarter sooner, fixed per pid). Default 10 000: a third of a cost row's TTL. */
  readonly refreshMs?: number;
}

interface Sent {
  readonly entries: readonly CostEntry[];
  readonly at: number;
}

export type RowOf = (pid: string) => readonly CostEntry[] | undefined;

export class RowGate {
  private readonly delta: number;
  private readonly minIntervalMs: number;
  private readonly refreshMs: number;
  private readonly last = new Map<string, Sent>();
  /** Rows with a material change held back by the rate limit. */
  private readonly held = new Set<string>();

  constructor(opts: RowGateOptions = {}) {
    this.delta = opts.delta ?? 0.05;
    // A tenth of slack: rows follow polls, and a poll period equal to the interval jitters around it.
    this.minIntervalMs = 0.9 * (opts.minIntervalMs ?? 1000);
    this.refreshMs = opts.refreshMs ?? 10_000;
  }

  /** Of the rows a cost map change touched, those to send now; the rate-limited ones are held. */
  changed(change: CostMapChange, rowOf: RowOf, now: number): string[] {
    const out: string[] = [];
    for (const pid of change.rows) {
      const prev = this.last.get(pid);
      const row = rowOf(pid);
      if (row === undefined) continue;
      if (prev === undefined || change.structural.has(pid)) {
        out.push(pid);
      } else if (materiallyChanged(prev.entries, row, this.delta)) {
        if (now - prev.at >= this.minIntervalMs) out.push(pid);
        else this.held.add(pid);
      }
    }
    return out;
  }

  /** Held rows whose interval has passed (if still materially changed), and rows due for refresh. */
  due(now: number, rowOf: RowOf): string[] {
    const out: string[] = [];
    for (const [pid, prev] of this.last) {
      const age = now - prev.at;
      // Rows first sent together (at start, after a cut) drift apart: each is refreshed up to a
      // quarter early, by its own fixed share, so refreshes do not all land on one poll.
      if (age >= this.refreshMs * (1 - 0.25 * spread(pid))) {
        out.push(pid);
      } else if (this.held.has(pid) && age >= this.minIntervalMs) {
        const row = rowOf(pid);
        if (row !== undefined && materiallyChanged(prev.entries, row, this.delta)) out.push(pid);
        else this.held.delete(pid);
      }
    }
    return out;
  }

  sent(pid: string, entries: readonly CostEntry[], now: number): void {
    this.last.set(pid, { entries, at: now });
    this.held.delete(pid);
  }

  /** Forgets rows of pids that are no longer attachment points. */
  keepOnly(pids: readonly string[]): void {
    const keep = new Set(pids);
    for (const pid of this.last.keys()) {
      if (!keep.has(pid)) {
        this.last.delete(pid);
        this.held.delete(pid);
      }
    }
  }
}

/** Worth telling readers: shape, level, a utilization that moved by more than delta, or the aggregate room by more than that fraction. */
export function materiallyChanged(a: readonly CostEntry[], b: readonly CostEntry[], delta = 0.05): boolean {
  if (a.length !== b.length) return true;
  for (let i = 0; i < b.length; i++) {
    const p = a[i] as CostEntry;
    const e = b[i] as CostEntry;
    if (p === e) continue;
    if (
      p.dstPid !== e.dstPid ||
      p.hops !== e.hops ||
      // Fewer paths is a structure change (sent at once); more is news that can ride along.
      e.paths < p.paths ||
      p.level !== e.level ||
      p.worstLevel !== e.worstLevel ||
      Math.abs(p.bottleneckUtilization - e.bottleneckUtilization) > delta ||
      Math.abs(p.worstUtilization - e.worstUtilization) > delta ||
      // A path's room follows its utilization; the set's aggregate has no utilization of its own.
      roomMoved(p.aggregateBps, e.aggregateBps, delta)
    ) {
      return true;
    }
  }
  return false;
}

const roomMoved = (a: number, b: number, delta: number): boolean => Math.abs(a - b) > delta * Math.max(a, b);

/** A fixed number in [0, 1) per pid (FNV-1a). */
function spread(pid: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < pid.length; i++) h = Math.imul(h ^ pid.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}

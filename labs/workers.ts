// Compute priority for the labs' services: a fixed number of workers, and requests that find them
// all busy wait in one queue per class, served interactive (high) first, then normal, then low
// (batch); first come first served inside a class. With `byClass` off the wait is one FIFO, the
// baseline the priority lab's ablation compares against. No clock: callers say when work ends.

export const CLASS_ORDER = ['high', 'normal', 'low'] as const;
export type WorkClass = (typeof CLASS_ORDER)[number];

/** A request's class from its x-meshflow-priority value; anything unknown is normal. */
export function workClassOf(v: string | undefined): WorkClass {
  return v === 'high' || v === 'low' ? v : 'normal';
}

export class Workers {
  readonly counters = { started: 0, queued: 0, maxWaiting: 0 };
  private busy = 0;
  private readonly waiting: Record<WorkClass, (() => void)[]> = { high: [], normal: [], low: [] };
  /** Arrival order across classes, for the FIFO baseline. */
  private readonly fifo: { cls: WorkClass; start: () => void }[] = [];

  constructor(
    readonly size: number,
    readonly byClass = true,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`workers: ${size} is not a positive integer`);
  }

  /** Runs `start` now if a worker is free, else when one frees up (in class order); `start` must call done() once. */
  submit(cls: WorkClass, start: () => void): void {
    if (this.busy < this.size) {
      this.busy++;
      this.counters.started++;
      start();
      return;
    }
    this.counters.queued++;
    if (this.byClass) this.waiting[cls].push(start);
    else this.fifo.push({ cls, start });
    this.counters.maxWaiting = Math.max(this.counters.maxWaiting, this.waitingCount());
  }

  /** A worker finished: the next waiting request gets it. */
  done(): void {
    const next = this.next();
    if (next === undefined) {
      this.busy = Math.max(0, this.busy - 1);
      return;
    }
    this.counters.started++;
    next();
  }

  waitingCount(): number {
    return this.byClass ? CLASS_ORDER.reduce((n, c) => n + this.waiting[c].length, 0) : this.fifo.length;
  }

  private next(): (() => void) | undefined {
    if (!this.byClass) return this.fifo.shift()?.start;
    for (const c of CLASS_ORDER) {
      const f = this.waiting[c].shift();
      if (f !== undefined) return f;
    }
    return undefined;
  }
}

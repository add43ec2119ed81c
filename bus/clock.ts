// Time as a parameter: everything that reads the clock, waits or keeps a timer does it through a
// Clock, so tests can run a ten-minute replay in microseconds and drive timeouts by hand.

export type Cancel = () => void;

export interface Clock {
  now(): number;
  /** Resolves after ms (at once for ms <= 0); rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Timers that never keep the process alive on their own. */
  setInterval(fn: () => void, ms: number): Cancel;
  setTimeout(fn: () => void, ms: number): Cancel;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (ms <= 0) return resolve();
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

interface VirtualTimer {
  at: number;
  readonly every: number | undefined;
  readonly fn: () => void;
}

/** A clock whose time moves only when told: sleep and advance move it, firing the timers that come due. */
export class VirtualClock implements Clock {
  readonly sleeps: number[] = [];
  private readonly timers = new Set<VirtualTimer>();
  constructor(private current = 0) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const next = [...this.timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.current = next.at;
      if (next.every === undefined) this.timers.delete(next);
      else next.at += next.every;
      next.fn();
    }
    this.current = end;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    this.sleeps.push(ms);
    if (ms > 0) this.advance(ms);
  }
  setInterval(fn: () => void, ms: number): Cancel {
    return this.add({ at: this.current + ms, every: Math.max(1, ms), fn });
  }
  setTimeout(fn: () => void, ms: number): Cancel {
    return this.add({ at: this.current + ms, every: undefined, fn });
  }
  private add(t: VirtualTimer): Cancel {
    this.timers.add(t);
    return () => this.timers.delete(t);
  }
}

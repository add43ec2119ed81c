// CPU and memory of another process, read from /proc: what a benchmark reports about the
// controller it drives without asking the controller anything.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const TICKS_PER_SEC = 100; // USER_HZ on Linux

/** utime + stime of a process, in seconds; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / TICKS_PER_SEC;
  } catch {
    return undefined;
  }
}

/** Resident set size in MiB. */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU % of one core between mark() and read(). */
export class CpuMeter {
  private cpu0 = 0;
  private t0 = 0;
  constructor(private readonly pid: number) {
    this.mark();
  }

  mark(): void {
    this.cpu0 = cpuSeconds(this.pid) ?? 0;
    this.t0 = performance.now();
  }

  /** Percent of one core since the last mark, and marks again. */
  read(): number {
    const cpu = cpuSeconds(this.pid) ?? this.cpu0;
    const t = performance.now();
    const pct = t > this.t0 ? ((cpu - this.cpu0) / ((t - this.t0) / 1000)) * 100 : 0;
    this.cpu0 = cpu;
    this.t0 = t;
    return pct;
  }
}

export interface HealthzFigures {
  readonly n: number;
  readonly failed: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** The controller's largest RSS seen while watching (MiB). */
  readonly rssMax: number;
}

/**
 * Asks a controller's GET /api/v1/healthz every `everyMs` (a request that takes over 2 s fails)
 * and samples its RSS, until stop() returns the latencies and the largest RSS.
 */
export function watchHealthz(apiUrl: string, pid: number, everyMs = 50): { stop(): Promise<HealthzFigures> } {
  const lat: number[] = [];
  let failed = 0;
  let rssMax = rssMiB(pid) ?? 0;
  const inflight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const t0 = performance.now();
    const p = fetch(`${apiUrl}/api/v1/healthz`, { signal: AbortSignal.timeout(2000) })
      .then(async (r) => {
        await r.arrayBuffer();
        if (r.ok) lat.push(performance.now() - t0);
        else failed++;
      })
      .catch(() => void failed++)
      .finally(() => inflight.delete(p));
    inflight.add(p);
    rssMax = Math.max(rssMax, rssMiB(pid) ?? 0);
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inflight);
      const v = lat.slice().sort((a, b) => a - b);
      const q = (p: number): number => v[Math.min(v.length - 1, Math.floor(p * v.length))] ?? Number.NaN;
      return { n: lat.length + failed, failed, p50: q(0.5), p99: q(0.99), max: v.at(-1) ?? Number.NaN, rssMax };
    },
  };
}

// Latency statistics: per-second rows for the charts and CSV, and summaries over a time window
// (e.g. "during congestion") for the report's table. Percentiles come from HDR histograms with
// 3 significant digits, recorded in microseconds.
import * as hdr from 'hdr-histogram-js';
import { isError, type RequestRecord } from './loadgen/record.ts';

export interface Percentiles {
  readonly count: number;
  readonly errors: number;
  /** errors / count (0 when there were no requests) */
  readonly errorRate: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

export interface SecondRow extends Percentiles {
  /** Whole seconds since the run's start (by due time). */
  readonly second: number;
  /** Responses per replica in this second. */
  readonly replicas: Readonly<Record<string, number>>;
}

/** p50/p99/p99.9 of every request given; failed requests count at the time they took to fail. */
export function percentiles(records: readonly RequestRecord[]): Percentiles {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  let errors = 0;
  for (const r of records) {
    h.recordValue(Math.max(1, Math.round(r.latencyMs * 1000)));
    if (isError(r)) errors++;
  }
  const count = records.length;
  const ms = (p: number): number => (count === 0 ? 0 : Math.round(h.getValueAtPercentile(p) / 10) / 100);
  const out: Percentiles = {
    count,
    errors,
    errorRate: count === 0 ? 0 : errors / count,
    p50Ms: ms(50),
    p99Ms: ms(99),
    p999Ms: ms(99.9),
    maxMs: count === 0 ? 0 : Math.round(h.maxValue / 10) / 100,
  };
  h.destroy();
  return out;
}

/** Requests due in [fromMs, toMs). */
export function inWindow(records: readonly RequestRecord[], fromMs: number, toMs: number): RequestRecord[] {
  return records.filter((r) => r.due >= fromMs && r.due < toMs);
}

/** One row per second from startMs for `seconds` seconds (empty seconds included, count 0). */
export function perSecond(records: readonly RequestRecord[], startMs: number, seconds: number): SecondRow[] {
  const buckets: RequestRecord[][] = Array.from({ length: seconds }, () => []);
  for (const r of records) {
    const s = Math.floor((r.due - startMs) / 1000);
    if (s >= 0 && s < seconds) buckets[s]!.push(r);
  }
  return buckets.map((rs, second) => {
    const replicas: Record<string, number> = {};
    for (const r of rs) if (r.replica !== undefined && !isError(r)) replicas[r.replica] = (replicas[r.replica] ?? 0) + 1;
    return { second, ...percentiles(rs), replicas };
  });
}

/** Share (0..1) of a replica among the answered requests of a row; undefined when none answered. */
export function replicaShare(row: Pick<SecondRow, 'replicas'>, replica: string): number | undefined {
  const total = Object.values(row.replicas).reduce((a, b) => a + b, 0);
  return total === 0 ? undefined : (row.replicas[replica] ?? 0) / total;
}

/** CSV of per-second rows: second, count, errors, p50, p99, p99.9, max, then one column per replica. */
export function secondsCsv(rows: readonly SecondRow[], replicaIds: readonly string[]): string {
  const head = ['second', 'count', 'errors', 'p50_ms', 'p99_ms', 'p999_ms', 'max_ms', ...replicaIds.map((r) => `n_${r}`)];
  const lines = rows.map((r) => [r.second, r.count, r.errors, r.p50Ms, r.p99Ms, r.p999Ms, r.maxMs, ...replicaIds.map((id) => r.replicas[id] ?? 0)].join(','));
  return `${head.join(',')}\n${lines.join('\n')}\n`;
}

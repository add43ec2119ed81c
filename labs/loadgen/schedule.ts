// The open-loop schedule: request i is due at start + i/rate, whatever happened to earlier
// requests. Latency is measured from that due time, not from when the request actually left,
// so a stalled generator or a slow response cannot hide delay (no coordinated omission).

/** When request `i` (0-based) is due, in ms, for `rate` requests per second starting at `startMs`. */
export function dueTime(startMs: number, rate: number, i: number): number {
  return startMs + (i * 1000) / rate;
}

/** How many requests are due by `nowMs` (inclusive), capped at the run's total. */
export function dueCount(startMs: number, rate: number, nowMs: number, total: number): number {
  if (nowMs < startMs) return 0;
  return Math.min(total, Math.floor(((nowMs - startMs) * rate) / 1000) + 1);
}

/** Total requests of a run of `durationMs` at `rate` per second. */
export function totalRequests(rate: number, durationMs: number): number {
  return Math.max(0, Math.ceil((durationMs * rate) / 1000));
}

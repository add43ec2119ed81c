// How much of a path's load is the intent's own traffic: byte counters of the intent's ingress
// rules (one per direction), read as a rate from two samples. Without this a least-congested
// intent carrying a heavy flow would see its own path as the congested one and flee it.
import type { Link } from '../topology/types.ts';
import type { Utilization } from './plan.ts';
import type { IntentPath } from './types.ts';

export interface ByteSample {
  readonly version: number;
  readonly fwdBytes: bigint;
  readonly revBytes: bigint;
  readonly at: number;
}

export interface OwnRate {
  readonly fwdBps: number;
  readonly revBps: number;
}

/** The rate between two samples of the same path version; undefined when there is nothing to compare. */
export function ownRate(prev: ByteSample | undefined, next: ByteSample): OwnRate | undefined {
  if (prev === undefined || prev.version !== next.version || next.at <= prev.at) return undefined;
  const secs = (next.at - prev.at) / 1000;
  // Counters restart when rules are replaced: a negative delta is no information.
  const bps = (a: bigint, b: bigint): number => (b >= a ? Number(b - a) * 8 : 0) / secs;
  return { fwdBps: bps(prev.fwdBytes, next.fwdBytes), revBps: bps(prev.revBytes, next.revBytes) };
}

/** The utilization the intent adds to each link of its path, forward rate on forward links and so on. */
export function ownUtilization(path: IntentPath, rate: OwnRate, links: ReadonlyMap<string, Link>): Utilization {
  const out = new Map<string, number>();
  const put = (id: string, bps: number): void => {
    const cap = links.get(id)?.capacityBps ?? 0;
    if (cap > 0) out.set(id, bps / cap);
  };
  for (const id of path.links) put(id, rate.fwdBps);
  for (const id of path.reverseLinks) put(id, rate.revBps);
  return out;
}

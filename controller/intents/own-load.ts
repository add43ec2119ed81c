// How much of a path's load is the intent's own traffic: byte counters of the intent's ingress
// rules (one per direction), read as a rate from two samples. Without this a least-congested
// intent carrying a heavy flow would see its own path as the congested one and flee it.
//
// A move replaces the rules, so the first sample on the new path has nothing to compare with;
// the traffic is the same flow, so its last rate is carried over to the new path until the new
// rules have been measured. Without that, the held path looked loaded by the intent's own
// traffic right after every move, and the intent fled back at its next chance.
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
function ownRate(prev: ByteSample | undefined, next: ByteSample): OwnRate | undefined {
  if (prev === undefined || prev.version !== next.version || next.at <= prev.at) return undefined;
  const secs = (next.at - prev.at) / 1000;
  // Counters restart when rules are replaced: a negative delta is no information.
  const bps = (a: bigint, b: bigint): number => (b >= a ? Number(b - a) * 8 : 0) / secs;
  return { fwdBps: bps(prev.fwdBytes, next.fwdBytes), revBps: bps(prev.revBytes, next.revBytes) };
}

/** The utilization the intent adds to each link of its path, forward rate on forward links and so on. */
function ownUtilization(path: IntentPath, rate: OwnRate, links: ReadonlyMap<string, Link>): Utilization {
  const out = new Map<string, number>();
  const put = (id: string, bps: number): void => {
    const cap = links.get(id)?.capacityBps ?? 0;
    if (cap > 0) out.set(id, bps / cap);
  };
  for (const id of path.links) put(id, rate.fwdBps);
  for (const id of path.reverseLinks) put(id, rate.revBps);
  return out;
}

/** Each intent's last samples and rate: its own utilization on the path it holds now. */
export class OwnLoads {
  private readonly samples = new Map<string, ByteSample>();
  private readonly rates = new Map<string, OwnRate>();

  /** Takes a sample of an intent's counters; returns its own utilization on `path`, when its rate is known. */
  update(id: string, sample: ByteSample, path: IntentPath, links: ReadonlyMap<string, Link>): Utilization | undefined {
    const rate = ownRate(this.samples.get(id), sample);
    this.samples.set(id, sample);
    if (rate) this.rates.set(id, rate);
    const known = this.rates.get(id);
    return known ? ownUtilization(path, known, links) : undefined;
  }

  forget(id: string): void {
    this.samples.delete(id);
    this.rates.delete(id);
  }
}

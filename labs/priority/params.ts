// The priority lab's settings and the data a run hands its report: what lab.ts runs and report.ts
// writes up, below both.
import { PRIORITY_DSCP } from '../../controller/intents/types.ts';
import type { Topology } from '../../topologies/topology.ts';
import type { LinkSample } from '../collect.ts';
import type { RequestRecord } from '../loadgen/record.ts';
import type { DscpRule, HtbPlan } from './htb.ts';
import type { IntentSeen, TcReading } from './netops.ts';

export type ClassName = 'high' | 'low';
export type VariantName = 'off' | 'on';

export const PRIORITY = {
  /** Service A (the middle tier) and its port; B serves one port per class. */
  serviceA: { name: 'svc-a', host: 'a', port: 8080 },
  serviceB: { host: 'b', normalPort: 8083 },
  client: 'c',
  classes: {
    /** Small answers at a steady rate: the latency-sensitive class (about 1.3 Mbit/s). */
    high: { pathPrefix: '/interactive', upstream: 'b-interactive', port: 8081, rate: 20, sizeBytes: 8_000 },
    /** Large answers, open loop: alone they keep the bottleneck busy most of the time. */
    low: { pathPrefix: '/batch', upstream: 'b-batch', port: 8082, rate: 2, sizeBytes: 400_000 },
  },
  /** A bulk TCP transfer B→A (iperf3 -R) marked low: backup traffic beside the batch requests,
   *  so that a queue builds at the bottleneck whatever the batch requests' timing. 0: none. */
  iperf: { port: 5201, streams: 1 },
  /** The bottleneck's queueing: the link rate; on: guaranteed shares per class and a queue per class
   *  (the high one longer: its traffic is light but comes in bursts after a datapath stall);
   *  off: one FIFO of both queues' length (see htb.ts for why the queues are short). */
  htb: { rateMbit: 10, highRateMbit: 7, lowRateMbit: 3, highDscp: PRIORITY_DSCP.high, lowDscp: PRIORITY_DSCP.low, highLimit: 50, lowLimit: 30 } satisfies HtbPlan,
  timeoutMs: 10_000,
} as const;

export interface VariantData {
  readonly variant: VariantName;
  readonly dir: string;
  /** Due time of the first request (ms epoch): second 0 of every chart. */
  readonly startMs: number;
  readonly durationSec: number;
  readonly records: Readonly<Record<ClassName, readonly RequestRecord[]>>;
  readonly links: readonly LinkSample[];
  /** Bottleneck ports: class counters of the measured stretch (deltas), tc -s text at its end. */
  readonly tc: readonly TcReading[];
  /** Rules setting ip_dscp, per bridge, read while the intents were in force (on only). */
  readonly flows: Readonly<Record<string, readonly DscpRule[]>>;
  readonly intents: readonly IntentSeen[];
}

export interface PriorityData {
  readonly topology: Topology;
  readonly variants: readonly VariantData[];
  readonly linkNames: Readonly<Record<string, string>>;
  /** The interfaces of the bottleneck: s1's port towards s2 and s2's towards s1. */
  readonly bottleneck: { readonly s1: string; readonly s2: string };
}

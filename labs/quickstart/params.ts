// The quickstart lab's settings and the data a run hands its report: what lab.ts runs and report.ts
// writes up, below both.
import type { Hint } from '../../bus/hints.ts';
import type { PolicyParams } from '../../bridge/policy.ts';
import type { Topology } from '../../topologies/topology.ts';
import type { LinkSample, WeightsSample } from '../collect.ts';
import type { RequestRecord } from '../loadgen/record.ts';

export const QUICKSTART = {
  service: 'web',
  replicas: [
    { id: 'web-a', host: 'ra' },
    { id: 'web-b', host: 'rb' },
  ],
  /** The replica whose path gets congested. */
  congested: 'web-a',
  /** Requests per second (open loop) and response size: about 5 Mbit/s of responses, a quarter
   *  of each 10 Mbit/s path when split evenly, half of one path when all of it goes there. */
  rate: 16,
  sizeBytes: 40_000,
  workMs: 2,
  /** Congestion between these fractions of the measured duration. */
  congestion: [0.25, 0.85] as const,
  /** Bridge policy for this lab: drain a congested path down to the floor (0.5%: one probe in 200
   *  requests) and follow within one cost row (0.1 s smoothing: the bridge smooths per new row, and
   *  the controller sends rows only on change or every 3 s), with a deadband small enough that the
   *  weights reach the floor rather than stopping a deadband above it. Then well under 1% of the
   *  requests meet the congested queue and the p99 can show it. The defaults (floor 5%, cap 0.5,
   *  deadband 50) are gentler. */
  policy: { floor: 0.005, congestedRoomCap: 0.003, smoothingMs: 100, deadband: 3 } satisfies Partial<PolicyParams>,
  /** Background on s1–s2: UDP s1→s2 just under the link rate (full at once, does not back off;
   *  above the link rate it overflows the queue and stalls the whole userspace datapath), and TCP
   *  streams s2→s1, the direction of the responses. */
  iperfUdpMbps: 9.5,
  iperfTcpStreams: 2,
  /** A cable that fails and recovers before the congestion, between these fractions of the run:
   *  s2–s4 carries none of the lab's traffic, so the network heals around it and the service must
   *  not notice (no false congestion, no weight change). */
  linkFailure: { a: 's2', b: 's4', down: 0.08, up: 0.18 },
} as const;

export interface VariantData {
  readonly variant: 'off' | 'on';
  readonly dir: string;
  /** Due time of the first request (ms epoch): second 0 of every chart. */
  readonly startMs: number;
  readonly durationSec: number;
  readonly congestion: { readonly from: number; readonly to: number };
  readonly records: readonly RequestRecord[];
  readonly links: readonly LinkSample[];
  readonly weights: readonly WeightsSample[];
  readonly hints: readonly Hint[];
  readonly marks: readonly { ts: number; label: string }[];
}

export interface QuickstartData {
  readonly topology: Topology;
  readonly variants: readonly VariantData[];
  /** Link ids of interest, with readable names: s1→s2 is the congested path's cost-map direction. */
  readonly linkNames: Readonly<Record<string, string>>;
  readonly congestedLinks: readonly string[];
}

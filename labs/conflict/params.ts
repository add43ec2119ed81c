// The conflict lab's settings and the data a run hands its report: what lab.ts runs and report.ts
// writes up, below both.
import type { Hint } from '../../bus/hints.ts';
import { defaultArbiterParams } from '../../bridge/arbiter.ts';
import type { PolicyParams } from '../../bridge/policy.ts';
import type { Topology } from '../../topologies/topology.ts';
import type { LinkSample, WeightsSample } from '../collect.ts';
import type { RequestRecord } from '../loadgen/record.ts';

export const VARIANTS = ['weights', 'paths', 'uncoordinated', 'arbitrated'] as const;
export type VariantName = (typeof VARIANTS)[number];

export const PHASES = ['before', 'spine', 'gap', 'access', 'after'] as const;
export type PhaseName = (typeof PHASES)[number];

export const CONFLICT = {
  service: 'web',
  replicas: [
    { id: 'web-a', host: 'ra' },
    { id: 'web-b', host: 'rb' },
  ],
  /** Requests per second (open loop) of 40 KB: about 3.2 Mbit/s of responses, under a third of one
   *  10 Mbit/s path even when all of it goes to one replica, so the levers' own moves congest nothing. */
  rate: 10,
  sizeBytes: 40_000,
  workMs: 2,
  /** Phase starts as fractions of the measured duration: quiet, the sp1–l2 cable full (a path move
   *  fixes it), quiet, the l3–a3 cable in front of web-b full (only weights fix it), quiet. */
  phases: { spine: 0.15, gap: 0.45, access: 0.55, after: 0.85 },
  /** Bulk traffic on the congested cable in each phase: UDP just under the link rate in the
   *  requests' direction (what the cost row from l1 measures) and TCP streams the other way. */
  bulk: {
    spine: { from: 'hb', to: 'hr', cable: ['sp1', 'l2'] as const },
    access: { from: 'hc', to: 'hd', cable: ['l3', 'a3'] as const },
  },
  iperfUdpMbps: 9.5,
  iperfTcpStreams: 2,
  /** The same weight policy for every variant (quickstart's drain-to-the-floor, a little smoother).
   *  A drained replica keeps 0.2% of the requests: a 1% floor sent 1% into the congested queue,
   *  which is the p99 itself, so the phase's p99 told how many of them there were, not what the
   *  lever did. The cap is under the floor so the room-reading variants drain to it too. */
  policy: { floor: 0.002, congestedRoomCap: 0.001, smoothingMs: 300, deadband: 20 } satisfies Partial<PolicyParams>,
  /** The arbiter's defaults: hold-downs of 12 s (above the 10 s reversal window), 3 s for a change to show. */
  arbiter: defaultArbiterParams,
  /** A→B→A within this long counts as a reversal. */
  reversalWindowMs: 10_000,
} as const;

/** One lever change seen during a run. */
export interface LeverChange {
  readonly ts: number;
  readonly lever: 'weights' | 'path';
  /** weights: replica → weight; path: the intent key. */
  readonly key: string;
  /** weights: the published split (JSON); path: 'ecmp', 'pinned' or the switches of the path. */
  readonly state: string;
  /** The state before this change, when known (weights: the split it replaced). */
  readonly from?: string;
}

export interface BulkResult {
  readonly phase: 'spine' | 'access';
  /** What the receiver got, bit/s, per direction (undefined: iperf3 wrote no result). */
  readonly udpBps?: number;
  readonly tcpBps?: number;
}

export interface VariantData {
  readonly variant: VariantName;
  readonly dir: string;
  /** Due time of the first request (ms epoch): second 0 of every chart. */
  readonly startMs: number;
  readonly durationSec: number;
  /** ms epoch of each phase's start; the run ends at startMs + durationSec s. */
  readonly phases: Readonly<Record<PhaseName, number>>;
  readonly records: readonly RequestRecord[];
  readonly links: readonly LinkSample[];
  readonly weights: readonly WeightsSample[];
  readonly hints: readonly Hint[];
  readonly changes: readonly LeverChange[];
  readonly bulk: readonly BulkResult[];
}

export interface ConflictData {
  readonly topology: Topology;
  readonly variants: readonly VariantData[];
  readonly linkNames: Readonly<Record<string, string>>;
  /** Both directions of each congested cable, by phase. */
  readonly cables: Readonly<Record<'spine' | 'access', readonly string[]>>;
}

// The failover lab's settings and the data a run hands its report.
import type { PolicyParams } from '../../bridge/policy.ts';
import type { WeightsSample } from '../collect.ts';
import type { FlowDiff } from './flows.ts';
import type { PingResult } from './pings.ts';

export const FAILOVER = {
  service: 'web',
  replicas: [
    { id: 'web-a', host: 'ra' },
    { id: 'web-b', host: 'rb' },
  ],
  rate: 16,
  sizeBytes: 40_000,
  workMs: 2,
  /** Congestion on s1–s2 between these fractions of the run (as the quickstart's). */
  congestion: [0.2, 0.9] as const,
  /** The master is killed (SIGKILL) at this fraction, in the middle of the congestion. */
  killAt: 0.55,
  iperfUdpMbps: 9.5,
  iperfTcpStreams: 2,
  leaseMs: 2000,
  pollIntervalMs: 250,
  policy: { floor: 0.005, congestedRoomCap: 0.003, smoothingMs: 100, deadband: 3 } satisfies Partial<PolicyParams>,
  /** Pings around the kill that count against the takeover: from this long before it to this long after the last switch's takeover. */
  windowBeforeMs: 1000,
  windowAfterMs: 3000,
  /** Goals. */
  goals: { takeoverMs: 3000, lostPerPair: 1 },
} as const;

export interface SwitchTakeover {
  readonly switchName: string;
  readonly dpid: string;
  /** From the SIGKILL to the survivor's ROLE_REPLY as master (ms); undefined: never. */
  readonly takeoverMs: number | undefined;
  readonly epochBefore: number;
  readonly epochAfter: number | undefined;
  readonly flows: FlowDiff;
}

export interface FailoverData {
  readonly startMs: number;
  readonly durationSec: number;
  readonly killTs: number;
  readonly congestion: { readonly from: number; readonly to: number };
  readonly switches: readonly SwitchTakeover[];
  readonly pings: readonly PingResult[];
  readonly weights: readonly WeightsSample[];
  /** cost rows seen on the bus: when, from which controller, with which epoch. */
  readonly rows: readonly { readonly ts: number; readonly controller: string | undefined; readonly epoch: number | undefined }[];
  readonly marks: readonly { ts: number; label: string }[];
  /** The survivor's takeover counter from /metrics. */
  readonly takeoversMetric: number | undefined;
}

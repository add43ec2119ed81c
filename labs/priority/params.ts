// The priority lab's settings and the data a run hands its report: what lab.ts runs and report.ts
// writes up, below both.
import { PRIORITY_DSCP } from '../../controller/intents/types.ts';
import { defaultQueueSettings as Q } from '../../controller/qos/tc-commands.ts';
import type { Topology } from '../../topologies/topology.ts';
import type { LinkSample } from '../collect.ts';
import type { RequestRecord } from '../loadgen/record.ts';
import type { DscpRule, HtbPlan } from './htb.ts';
import type { IntentSeen, TcReading } from './netops.ts';

export type ClassName = 'high' | 'low';
/** off and on always; the ablation adds all layers but one, for each layer it can turn off. */
export type VariantName = 'off' | 'on' | 'no-sidecar' | 'no-network' | 'no-host' | 'no-compute';

/**
 * The layers of prioritisation the lab can turn on: the client sidecar's class scheduling, the
 * network's part (priority intents: DSCP marks and the controller's queues), the sending host's
 * kernel (a prio qdisc on B's interface, host.ts) and compute priority at service B (its workers
 * serve the interactive class first). Message-queue priority and per-class transport are not in
 * this lab yet (see labs/README.md).
 */
export interface Layers {
  readonly sidecar: boolean;
  readonly network: boolean;
  readonly host: boolean;
  readonly compute: boolean;
}

export interface VariantPlan {
  readonly name: VariantName;
  readonly layers: Layers;
}

/** Environment switch for the ablation (six variants, about 4 minutes more than the two of CI). */
export const ABLATION_ENV = 'MESHFLOW_PRIORITY_ABLATION';

/**
 * The variants of a run. The short one (CI) compares the network's part alone against FIFO, as the
 * lab always has; the ablation gives B real work and a single worker so compute priority and the
 * sidecar's scheduling have something to order, and runs all layers on, then each off in turn.
 */
export function variantPlan(ablation: boolean): VariantPlan[] {
  const none: Layers = { sidecar: false, network: false, host: false, compute: false };
  if (!ablation) return [{ name: 'off', layers: none }, { name: 'on', layers: { ...none, network: true } }];
  const all: Layers = { sidecar: true, network: true, host: true, compute: true };
  return [
    { name: 'off', layers: none },
    { name: 'on', layers: all },
    { name: 'no-sidecar', layers: { ...all, sidecar: false } },
    { name: 'no-network', layers: { ...all, network: false } },
    { name: 'no-host', layers: { ...all, host: false } },
    { name: 'no-compute', layers: { ...all, compute: false } },
  ];
}

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
  /** The bottleneck's queueing: the link rate; off: one FIFO as long as both of the controller's
   *  queues (see htb.ts for why they are short); on: the controller's queues, with its default
   *  settings (controller/qos/tc-commands.ts), restated here for the report. */
  htb: { rateMbit: 10, highRateMbit: Math.round(10_000 * Q.highShare) / 1000, lowRateMbit: Math.round(10_000 * (1 - Q.highShare)) / 1000, highDscp: PRIORITY_DSCP.high, lowDscp: PRIORITY_DSCP.low, highLimit: Q.highLimit, lowLimit: Q.lowLimit } satisfies HtbPlan,
  timeoutMs: 10_000,
  /** The hosts' links (topology.json): the rate B's interface keeps under the host kernel's classes. */
  hostLinkMbit: 20,
  /** Service B's simulated work per request and its workers: the short run gives it next to none. */
  serviceWork: { workMs: 1, workers: 0 },
  /** In the ablation B is busy (one worker, 30 ms a request: about two thirds of its time at 22 requests/s),
   *  and the client's sidecar holds requests beyond a few in flight to A, highest class first. */
  ablation: { workMs: 30, workers: 1, sidecarConcurrency: 12, sidecarQueueLimit: 256 },
} as const;

export interface VariantData {
  readonly variant: VariantName;
  readonly layers: Layers;
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
  /** Whether this run was the ablation (all five variants). */
  readonly ablation: boolean;
  readonly topology: Topology;
  readonly variants: readonly VariantData[];
  readonly linkNames: Readonly<Record<string, string>>;
  /** The interfaces of the bottleneck: s1's port towards s2 and s2's towards s1. */
  readonly bottleneck: { readonly s1: string; readonly s2: string };
}

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
export type VariantName = 'off' | 'on' | 'calm' | 'no-sidecar' | 'no-network' | 'no-host' | 'no-compute' | 'no-transport' | 'no-queue';

/**
 * The layers of prioritisation the lab can turn on: the client sidecar's class scheduling, the
 * network's part (priority intents on the classes' source addresses: DSCP marks and the
 * controller's queues), the sending host's kernel (a prio qdisc on B's interface, host.ts),
 * compute priority at service B (its workers serve the interactive class first), per-class
 * transport (TCP congestion control per class route, transport.ts) and the message queue's
 * priority (A hands work to B through RabbitMQ, the class as the message priority).
 */
export interface Layers {
  readonly sidecar: boolean;
  readonly network: boolean;
  readonly host: boolean;
  readonly compute: boolean;
  readonly transport: boolean;
  readonly queue: boolean;
}

export interface VariantPlan {
  readonly name: VariantName;
  readonly layers: Layers;
  /** The batch class and the bulk transfer run (the congestion); calm: the interactive class alone. */
  readonly congested: boolean;
  /** The variant measures this many times the run's duration (the goal's two variants in the ablation). */
  readonly lengthFactor: number;
}

/** Environment switch for the ablation (nine variants, about 6 minutes more than the two of CI). */
export const ABLATION_ENV = 'MESHFLOW_PRIORITY_ABLATION';

/**
 * The variants of a run. The short one (CI) compares the network's part alone against FIFO, as the
 * lab always has; the ablation gives B real work and a single worker so compute priority and the
 * sidecar's scheduling have something to order, and runs all layers on, then each off in turn.
 */
export function variantPlan(ablation: boolean): VariantPlan[] {
  const none: Layers = { sidecar: false, network: false, host: false, compute: false, transport: false, queue: false };
  const run = (name: VariantName, layers: Layers, congested = true, lengthFactor = 1): VariantPlan => ({ name, layers, congested, lengthFactor });
  if (!ablation) return [run('off', none), run('on', { ...none, network: true })];
  const all: Layers = { sidecar: true, network: true, host: true, compute: true, transport: true, queue: true };
  const goal = PRIORITY.ablation.goalLengthFactor;
  return [
    run('off', none),
    run('on', all, true, goal),
    // The goal's yardstick: the interactive class's latency with every layer on and nothing competing.
    run('calm', all, false, goal),
    run('no-sidecar', { ...all, sidecar: false }),
    run('no-network', { ...all, network: false }),
    run('no-host', { ...all, host: false }),
    run('no-compute', { ...all, compute: false }),
    run('no-transport', { ...all, transport: false }),
    run('no-queue', { ...all, queue: false }),
  ];
}

export const PRIORITY = {
  /** Service A (the middle tier) and service B, one port each: every class goes to the same B, and the
   *  network, B's kernel and its routes tell the classes apart by A's per-class source address. */
  serviceA: { name: 'svc-a', host: 'a', port: 8080 },
  serviceB: { name: 'svc-b', host: 'b', port: 8081 },
  client: 'c',
  classes: {
    /** Small answers at a steady rate: the latency-sensitive class (about 1.3 Mbit/s). `address`: the
     *  source address A's sidecar sends this class from (an extra address of host a, transport.ts);
     *  `congctl`: its TCP congestion control when the transport layer is on, chosen on figures
     *  (labs/README.md): bbr for both classes. Batch shares the low queue (30 packets) with the bulk
     *  transfer, which rides the kernel's default; loss-based cubic backs off at every drop there and
     *  gave batch 9–29% less throughput than bbr, while the interactive class, kept apart by the
     *  bottleneck's and B's classes, gained nothing beyond run-to-run noise. Where the kernel's default
     *  is bbr (this machine) the layer therefore changes nothing; elsewhere it moves both classes to bbr. */
    high: { pathPrefix: '/interactive', rate: 20, sizeBytes: 8_000, address: '10.0.0.12', congctl: 'bbr', table: 112 },
    /** Large answers, open loop: alone they keep the bottleneck busy most of the time. */
    low: { pathPrefix: '/batch', rate: 2, sizeBytes: 400_000, address: '10.0.0.13', congctl: 'bbr', table: 113 },
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
  /** In the ablation the batch class is a closed loop of `batchConcurrency` requests in flight
   *  (closed-loop.ts), so its throughput shows what the other class takes from it; B is busy (one worker, 20 ms a request: over 40% of its time at 21 requests/s),
   *  and the client's sidecar holds requests beyond a few in flight to A, highest class first.
   *  The goal's two variants (on, calm) measure `goalLengthFactor` times as long: their interactive p99
   *  is then the 12th slowest of 1,200 requests rather than the 6th of 600, so one stall of this shared
   *  machine (a few hundred ms: 4–8 requests) does not make the p99 on its own. */
  ablation: { workMs: 20, workers: 1, sidecarConcurrency: 12, sidecarQueueLimit: 256, batchConcurrency: 2, goalLengthFactor: 2 },
  /** The message-queue hop (ablation only: RabbitMQ takes seconds to start): A hands each request's
   *  work to B's one consumer through a priority queue, `workMs` of work per message, before it
   *  calls B; the class becomes the message priority (off: every message 0). */
  queue: { name: 'svc-b-work', workMs: 15, consumers: 1, priorities: { high: 9, normal: 5, low: 1 } },
} as const;

export interface VariantData {
  readonly variant: VariantName;
  readonly layers: Layers;
  readonly congested: boolean;
  readonly dir: string;
  /** Due time of the first request (ms epoch): second 0 of every chart. */
  readonly startMs: number;
  readonly durationSec: number;
  readonly records: Readonly<Record<ClassName, readonly RequestRecord[]>>;
  readonly links: readonly LinkSample[];
  /** Share of the measured stretch in which some task waited for a CPU (machine.ts); undefined without PSI. */
  readonly cpuWait?: number;
  /** Bottleneck ports: class counters of the measured stretch (deltas), tc -s text at its end. */
  readonly tc: readonly TcReading[];
  /**
   * Queue trees the controller put on or took off ports during the measured stretch: 0 unless an
   * intent's path was lost and found again (its queues go and come back, their counters from zero).
   */
  readonly queueChanges: number;
  /** Rules setting ip_dscp, per bridge, read while the intents were in force (on only). */
  readonly flows: Readonly<Record<string, readonly DscpRule[]>>;
  readonly intents: readonly IntentSeen[];
  /** Congestion control of B's connections to each class address at the end of the run (ss -ti), counted. */
  readonly congestion: Readonly<Record<ClassName, Readonly<Record<string, number>>>>;
}

export interface PriorityData {
  /** Whether this run was the ablation (all the variants of variantPlan(true)). */
  readonly ablation: boolean;
  readonly topology: Topology;
  readonly variants: readonly VariantData[];
  readonly linkNames: Readonly<Record<string, string>>;
  /** The interfaces of the bottleneck: s1's port towards s2 and s2's towards s1. */
  readonly bottleneck: { readonly s1: string; readonly s2: string };
  /** The congestion controls the kernel offers, and its default (the transport layer's "off"). */
  readonly transport: { readonly available: readonly string[]; readonly default: string };
  /** The queue hop's broker, when the run had one (the ablation): how long it took to start. */
  readonly queue?: { readonly startMs: number };
}

/** The spans of the client's and A's sidecars, in each variant's folder (the report's waterfall reads them). */
export const SPAN_FILES = ['spans-client.jsonl', 'spans-a.jsonl'] as const;

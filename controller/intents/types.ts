// The vocabulary of intents: what a client asks for (a class of traffic and a policy), what the
// controller keeps for each one (its path, its rules' cookie, its state), and the settings that
// decide when a path is worth moving.
import type { Hop } from '../routing/paths.ts';

export const POLICIES = ['shortest', 'least-congested', 'avoid', 'explicit'] as const;
export type PolicyName = (typeof POLICIES)[number];

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type PriorityName = (typeof PRIORITIES)[number];

/**
 * DSCP marks for the named priorities: EF for high (RFC 3246), default forwarding for normal,
 * CS1 ("lower effort", RFC 8622's predecessor in common use) for low.
 */
export const PRIORITY_DSCP: Readonly<Record<PriorityName, number>> = { high: 46, normal: 0, low: 8 };

/** One class of traffic, as the rules match it in the src → dst direction. */
export interface TrafficClass {
  readonly srcIp: string;
  readonly dstIp: string;
  /** 1 (ICMP), 6 (TCP) or 17 (UDP); any IPv4 protocol when absent. */
  readonly ipProto?: number;
  readonly srcPort?: number;
  readonly dstPort?: number;
}

/** A link to keep off: one cable by a link id (either direction names it), or every cable between two switches. */
export type AvoidItem = { readonly kind: 'link'; readonly id: string } | { readonly kind: 'switches'; readonly a: string; readonly b: string };

export type Policy =
  | { readonly name: 'shortest' }
  | { readonly name: 'least-congested' }
  | { readonly name: 'avoid'; readonly avoid: readonly AvoidItem[] }
  | { readonly name: 'explicit'; readonly switches: readonly string[] };

/** A request, checked and with its hosts resolved: everything planning needs, nothing it must look up by name. */
export interface IntentSpec {
  /** The hosts as the client named them (name, IPv4 or MAC), echoed back in views. */
  readonly src: string;
  readonly dst: string;
  /** Which host table entries are the ends: found by MAC, so a host that moves is followed. */
  readonly srcMac: string;
  readonly dstMac: string;
  readonly traffic: TrafficClass;
  readonly policy: Policy;
  readonly priority?: PriorityName;
  /** The mark set on the class's packets where they enter the network; none when absent. */
  readonly dscp?: number;
}

/** The path an intent holds: both directions over the same cables, so replies follow the class. */
export interface IntentPath {
  /** Switches from src's to dst's. */
  readonly switches: readonly string[];
  readonly hops: readonly Hop[];
  readonly links: readonly string[];
  /** dst → src over the same cables. */
  readonly reverseHops: readonly Hop[];
  readonly reverseLinks: readonly string[];
  /** The highest utilization on the path (either direction of each cable), when it was planned. */
  readonly bottleneck: number;
}

export type IntentStatus = 'active' | 'unsatisfiable';

export interface IntentRecord {
  readonly id: string;
  /** Numbers the intent inside its cookies (see rules.ts). */
  readonly num: number;
  readonly spec: IntentSpec;
  readonly createdAt: number;
  readonly status: IntentStatus;
  readonly path: IntentPath | undefined;
  /** Why the intent is unsatisfiable (or why it last moved). */
  readonly reason: string | undefined;
  /** Bumped at every install, so the rules of an old path can be deleted exactly. */
  readonly version: number;
  /** Every switch that may hold one of the intent's rules: where deletion must go. */
  readonly touched: ReadonlySet<string>;
  readonly movedAt: number;
}

export interface IntentsState {
  readonly records: ReadonlyMap<string, IntentRecord>;
  readonly nextNum: number;
}

export const initialIntentsState: IntentsState = { records: new Map(), nextNum: 1 };

export interface IntentSettings {
  /** Base OpenFlow priority of intent rules: above reactive forwarding (1000..1020). */
  readonly priority: number;
  /** least-congested moves only off a path whose bottleneck (its own traffic left out) is at least this busy (0..1)... */
  readonly hotMark: number;
  /** ...only to a path whose bottleneck is lower by at least this much (0..1)... */
  readonly moveMargin: number;
  /** ... and not sooner than this after its last move (ms). */
  readonly minMoveIntervalMs: number;
  /** Paths whose bottlenecks differ by less than this count as equally loaded: then fewer hops win. */
  readonly tieBand: number;
}

export const defaultIntentSettings: IntentSettings = {
  priority: 2000,
  hotMark: 0.6,
  moveMargin: 0.2,
  minMoveIntervalMs: 5000,
  tieBand: 0.05,
};

/** Why an intent's path changed, as announced in path_change events. */
export type MoveReason = 'link_down' | 'host_moved' | 'congestion' | 'shorter' | 'restored' | 'no_path';

export interface PathChange {
  readonly id: string;
  readonly spec: IntentSpec;
  readonly from: IntentPath | undefined;
  readonly to: IntentPath | undefined;
  readonly reason: MoveReason;
}

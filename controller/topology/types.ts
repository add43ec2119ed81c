// The vocabulary of the topology layer, shared by the pure tables, the discovery service,
// routing and the API.
import type { CAPACITY_SOURCES } from '../../bus/hints.ts';

/** Where a link direction's capacity came from (capacity.ts says which wins). */
export type CapacitySource = (typeof CAPACITY_SOURCES)[number];

/** One side of a link, or a host's attachment point. */
export interface Endpoint {
  /** 16 lower-case hex digits. */
  readonly dpid: string;
  readonly port: number;
}

export const endpointKey = (e: Endpoint): string => `${e.dpid}:${e.port}`;
export const sameEndpoint = (a: Endpoint, b: Endpoint): boolean => a.dpid === b.dpid && a.port === b.port;

export type LinkState = 'up' | 'down';

export type LinkDownReason = 'expired' | 'port_down' | 'port_deleted' | 'switch_down' | 'replaced';

/** One direction of a switch-to-switch link, as LLDP from src arriving at dst proved it. */
export interface Link {
  /** "<srcDpid>:<srcPort>-<dstDpid>:<dstPort>", stable across up/down. */
  readonly id: string;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  /** Bit/s; 0: unknown (no source knows it, e.g. an OVS patch port). */
  readonly capacityBps: number;
  /** Which source gave the capacity (capacity.ts); absent on links built outside discovery: the port speed. */
  readonly capacitySource?: CapacitySource;
  readonly state: LinkState;
  /** When the link entered its current state (ms). */
  readonly since: number;
  /** The last LLDP that proved it (ms). */
  readonly lastSeen: number;
  readonly downReason?: LinkDownReason;
}

export const linkId = (src: Endpoint, dst: Endpoint): string => `${endpointKey(src)}-${endpointKey(dst)}`;

export interface Host {
  readonly mac: string;
  readonly ipv4: string | undefined;
  readonly at: Endpoint;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

export type TopologyEvent =
  | { readonly type: 'link_up'; readonly link: Link }
  | { readonly type: 'link_down'; readonly link: Link; readonly reason: LinkDownReason }
  | { readonly type: 'host_added'; readonly host: Host }
  | { readonly type: 'host_moved'; readonly host: Host; readonly from: Endpoint }
  | { readonly type: 'host_removed'; readonly host: Host; readonly reason: 'expired' | 'port_is_link' };

/**
 * What a planner over a table returns: the changes for the table's store to apply, and what
 * happened. Planners only read; the store changes when the caller applies the step.
 */
export interface Step<C> {
  readonly changes: readonly C[];
  readonly events: readonly TopologyEvent[];
}

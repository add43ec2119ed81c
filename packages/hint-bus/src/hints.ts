// The hint types, written to match the shipped JSON Schemas (schemas/*.schema.json).
// The repository's tests compare these fields with the schemas' properties, so they cannot drift.

export const HINT_KINDS = ['link_state', 'event', 'cost_row', 'weights', 'sidecar_status', 'controller_status'] as const;
export type HintKind = (typeof HINT_KINDS)[number];

/** The schema version of each kind (`v`): a reader refuses versions it would misread. */
export const HINT_VERSIONS = {
  link_state: 2,
  event: 1,
  cost_row: 2,
  weights: 1,
  sidecar_status: 1,
  controller_status: 1,
} as const satisfies Record<HintKind, number>;

export const LEVELS = ['ok', 'warning', 'congested', 'down'] as const;
export type Level = (typeof LEVELS)[number];
export const CAPACITY_SOURCES = ['api', 'config', 'topology', 'tc', 'port', 'none'] as const;
export type CapacitySource = (typeof CAPACITY_SOURCES)[number];
export const EVENT_NAMES = ['congestion_onset', 'congestion_clear', 'link_up', 'link_down', 'path_change', 'switch_up', 'switch_down', 'arbiter_decision'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/** Fields every hint carries. `replayed`/`originalTs` appear only on replayed hints, `controller`/`epoch` on a controller group's. */
interface Envelope<K extends HintKind> {
  readonly v: (typeof HINT_VERSIONS)[K];
  readonly kind: K;
  /** ms since the epoch, when the publisher stamped it. */
  readonly ts: number;
  /** Per publisher, strictly increasing. */
  readonly seq: number;
  /** Stale once ts + ttlMs < now. */
  readonly ttlMs: number;
  /** Publisher id. */
  readonly source: string;
  readonly replayed?: true;
  readonly originalTs?: number;
  /** The controller of a group that published it. */
  readonly controller?: string;
  /** Fencing number of the publisher's lease: a higher epoch supersedes a lower one. */
  readonly epoch?: number;
}

export interface Endpoint {
  /** Datapath id, 16 lower-case hex digits. */
  readonly dpid: string;
  readonly port: number;
}

export interface LinkStateHint extends Envelope<'link_state'> {
  /** `<src dpid>:<src port>-<dst dpid>:<dst port>` */
  readonly linkId: string;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  /** bit/s; 0: unknown. */
  readonly capacityBps: number;
  readonly capacitySource?: CapacitySource;
  readonly rateBps: number;
  readonly utilization: number;
  readonly drops: number;
  readonly level: Level;
  readonly delayMs?: number;
  readonly baseDelayMs?: number;
  readonly queueDelayMs?: number;
}

export interface EventHint extends Envelope<'event'> {
  readonly event: EventName;
  readonly linkId?: string;
  readonly dpid?: string;
  readonly level?: Level;
  readonly utilization?: number;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** One entry per destination, by column: entry i is the i-th element of every array. */
export interface CostColumns {
  readonly dstPid: readonly string[];
  readonly hops: readonly number[];
  readonly paths: readonly number[];
  readonly bottleneckUtilization: readonly number[];
  readonly availableBps: readonly number[];
  readonly worstUtilization: readonly number[];
  readonly worstAvailableBps: readonly number[];
  readonly aggregateBps: readonly number[];
  readonly level: readonly Level[];
  readonly worstLevel: readonly Level[];
  readonly queueDelayMs?: readonly number[];
}

export interface CostRowHint extends Envelope<'cost_row'> {
  readonly srcPid: string;
  readonly costs: CostColumns;
}

export interface WeightsHint extends Envelope<'weights'> {
  readonly sidecarId: string;
  /** service -> replica id -> weight (0..1000) */
  readonly services: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** replica id -> the path to it: `room: false` (send it only the highest class), its links with their levels, and
   *  with ECMP `equalCost`: connections are hashed over that many equal-cost paths, of which `path` is one. */
  readonly replicas?: Readonly<
    Record<string, { readonly room?: boolean; readonly path?: readonly { readonly link: string; readonly level?: Level }[]; readonly equalCost?: number }>
  >;
}

export interface SidecarStatusHint extends Envelope<'sidecar_status'> {
  readonly sidecarId: string;
  readonly state: 'online' | 'offline';
  readonly host?: string;
  readonly services?: readonly string[];
}

export interface ControllerStatusHint extends Envelope<'controller_status'> {
  readonly controllerId: string;
  readonly state: 'online' | 'offline';
  readonly apiUrl?: string;
}

/** Every hint, tagged by `kind`. */
export type Hint = LinkStateHint | EventHint | CostRowHint | WeightsHint | SidecarStatusHint | ControllerStatusHint;
export type HintOf<K extends HintKind> = Extract<Hint, { kind: K }>;

/** A cost row's i-th destination, as one object. */
export type CostEntry = { readonly [F in keyof CostColumns]: NonNullable<CostColumns[F]>[number] };

export function costEntries(c: CostColumns): CostEntry[] {
  return c.dstPid.map((dstPid, i) => ({
    dstPid,
    hops: c.hops[i] as number,
    paths: c.paths[i] as number,
    bottleneckUtilization: c.bottleneckUtilization[i] as number,
    availableBps: c.availableBps[i] as number,
    worstUtilization: c.worstUtilization[i] as number,
    worstAvailableBps: c.worstAvailableBps[i] as number,
    aggregateBps: c.aggregateBps[i] as number,
    level: c.level[i] as Level,
    worstLevel: c.worstLevel[i] as Level,
    ...(c.queueDelayMs === undefined ? {} : { queueDelayMs: c.queueDelayMs[i] as number }),
  }));
}

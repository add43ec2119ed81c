// The hint types, derived from the schema definitions (never written by hand twice).
import type { Static } from '@sinclair/typebox';
import type {
  CostRowSchema,
  EventSchema,
  LinkStateSchema,
  SidecarStatusSchema,
  ControllerStatusSchema,
  WeightsSchema,
} from './schemas/definitions.ts';

export { CAPACITY_SOURCES, HINT_KINDS, HINT_VERSIONS, COST_FIELDS, OPTIONAL_COST_FIELDS, LEVELS, EVENT_NAMES, WEIGHT_MAX, EQUAL_COST_MAX } from './schemas/definitions.ts';
export type { HintKind } from './schemas/definitions.ts';

export type LinkStateHint = Static<typeof LinkStateSchema>;
export type EventHint = Static<typeof EventSchema>;
export type CostRowHint = Static<typeof CostRowSchema>;
export type WeightsHint = Static<typeof WeightsSchema>;
export type SidecarStatusHint = Static<typeof SidecarStatusSchema>;
export type ControllerStatusHint = Static<typeof ControllerStatusSchema>;

/** Every message on the bus, tagged by `kind`. */
export type Hint = LinkStateHint | EventHint | CostRowHint | WeightsHint | SidecarStatusHint | ControllerStatusHint;
export type HintOf<K extends Hint['kind']> = Extract<Hint, { kind: K }>;
export type Level = LinkStateHint['level'];
export type EventName = EventHint['event'];

/** A cost row's entries as the row carries them: one array per field. */
export type CostColumns = CostRowHint['costs'];
/** One destination of a cost row (the controller's CostEntry). */
export type CostEntry = { readonly [F in keyof CostColumns]: NonNullable<CostColumns[F]>[number] };
/** Columns as a reader holds them. */
type ColumnsView = { readonly [F in keyof CostColumns]: readonly NonNullable<CostColumns[F]>[number][] };

/** Entries → the columns a cost_row carries. */
export function costColumns(entries: readonly CostEntry[]): CostColumns {
  return {
    dstPid: entries.map((e) => e.dstPid),
    hops: entries.map((e) => e.hops),
    paths: entries.map((e) => e.paths),
    bottleneckUtilization: entries.map((e) => e.bottleneckUtilization),
    availableBps: entries.map((e) => e.availableBps),
    worstUtilization: entries.map((e) => e.worstUtilization),
    worstAvailableBps: entries.map((e) => e.worstAvailableBps),
    aggregateBps: entries.map((e) => e.aggregateBps),
    level: entries.map((e) => e.level),
    worstLevel: entries.map((e) => e.worstLevel),
    // An optional column: present when the entries carry it (a map made with delay probes).
    ...(entries.length > 0 && entries.every((e) => e.queueDelayMs !== undefined) ? { queueDelayMs: entries.map((e) => e.queueDelayMs as number) } : {}),
  };
}

/** The i-th entry of a row's columns (parseHint has checked that the columns have equal lengths). */
export function costEntryAt(c: ColumnsView, i: number): CostEntry {
  return {
    dstPid: c.dstPid[i] as string,
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
  };
}

/** Every entry of a row, in the row's order. */
export function costEntries(c: ColumnsView): CostEntry[] {
  return c.dstPid.map((_, i) => costEntryAt(c, i));
}

/** The fields a publisher stamps (and signs); everything else is the caller's. */
export type EnvelopeField = 'v' | 'ts' | 'seq' | 'ttlMs' | 'source' | 'replayed' | 'originalTs' | 'sig';
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** What a caller hands to the publisher: a hint without its envelope. */
export type HintBody = DistributiveOmit<Hint, EnvelopeField>;
export type HintBodyOf<K extends Hint['kind']> = Extract<HintBody, { kind: K }>;

/**
 * Default time-to-live per kind. Link states are republished every monitor interval, so
 * a few missed rounds make them stale; a sidecar's status lives until its last will says otherwise.
 */
export const DEFAULT_TTL_MS: Readonly<Record<Hint['kind'], number>> = {
  link_state: 10_000,
  event: 60_000,
  cost_row: 30_000,
  weights: 30_000,
  sidecar_status: 24 * 3600_000,
  controller_status: 24 * 3600_000,
};

/** A hint is stale once ts + ttlMs < now: consumers fall back to their own defaults. */
export function isStale(hint: Pick<Hint, 'ts' | 'ttlMs'>, now: number): boolean {
  return hint.ts + hint.ttlMs < now;
}

/** Canonical 16-digit lower-case datapath id. */
export function formatDpid(dpid: bigint | number | string): string {
  const n = typeof dpid === 'string' ? BigInt(dpid.startsWith('0x') ? dpid : `0x${dpid}`) : BigInt(dpid);
  if (n < 0n || n > 0xffff_ffff_ffff_ffffn) throw new RangeError(`dpid out of range: ${String(dpid)}`);
  return n.toString(16).padStart(16, '0');
}

export interface LinkEnd {
  readonly dpid: string;
  readonly port: number;
}

/** linkId of one direction: `<src dpid>:<src port>-<dst dpid>:<dst port>`. */
export function linkIdOf(src: LinkEnd, dst: LinkEnd): string {
  return `${formatDpid(src.dpid)}:${src.port}-${formatDpid(dst.dpid)}:${dst.port}`;
}

/** The endpoints named by a linkId, or undefined when it is not one. */
export function parseLinkId(linkId: string): { src: LinkEnd; dst: LinkEnd } | undefined {
  const m = /^([0-9a-f]{16}):([0-9]+)-([0-9a-f]{16}):([0-9]+)$/.exec(linkId);
  if (m === null) return undefined;
  const [, sd, sp, dd, dp] = m as unknown as [string, string, string, string, string];
  return { src: { dpid: sd, port: Number(sp) }, dst: { dpid: dd, port: Number(dp) } };
}

// The weight policy: a pure step from (registry, what the network said, now) to the
// weights each sidecar should use. No clock, no I/O: the runner feeds hints in with
// `withHint`, calls `computeWeights` and publishes what it returns.
import { costEntryAt, isStale, type CostEntry, type CostRowHint, type Hint, type ServiceWeights } from './hints.ts';
import { pidOf, replicasOf, type Registry, type Replica, type Sidecar } from './registry.ts';

export const WEIGHT_TOTAL = 1000;

export interface PolicyParams {
  /** Share (0..1) every reachable replica keeps, so probes keep flowing and recovery is seen. */
  readonly floor: number;
  /** Bottleneck utilization below which a path counts as having all the room it needs. */
  readonly kneeUtilization: number;
  /** A path the controller calls congested has at most this room, whatever its utilization. */
  readonly congestedRoomCap: number;
  /** EWMA time constant: after this long a step change has moved 63% of the way. */
  readonly smoothingMs: number;
  /** Deadband in weight units (of 1000): smaller moves are not republished. */
  readonly deadband: number;
  /** Ask for a least-congested path intent at this utilization (or level congested)… */
  readonly intentOnsetUtilization: number;
  /** …and withdraw it only once utilization falls below this. */
  readonly intentClearUtilization: number;
  /** Which of the equal-cost paths a replica's room is read from: 'best' when intents can put the
   *  flows on it; 'worst' when nothing does (flows are hashed onto any of them, a plain mesh). */
  readonly roomBasis: 'best' | 'worst';
  /** The congested level caps a path's room only at this utilization or above (or with no room
   *  figure): 0 takes every level as given; the arbiter sets the clear mark, so a level the delay
   *  probes raise on an idle link (CPU contention, not this link's queue) moves nothing. */
  readonly levelMinUtilization: number;
  /** A path whose room (roomOf) is at or under this has no room: sidecars send its replica only their
   *  highest class. 0.1 with the knee at 0.5 is utilization 95% or more, or availableBps 0. */
  readonly shedRoom: number;
}

export const defaultPolicyParams: PolicyParams = {
  floor: 0.05,
  kneeUtilization: 0.5,
  congestedRoomCap: 0.5,
  smoothingMs: 3000,
  deadband: 50,
  intentOnsetUtilization: 0.8,
  intentClearUtilization: 0.6,
  roomBasis: 'best',
  levelMinUtilization: 0,
  shedRoom: 0.1,
};

type Shares = Readonly<Record<string, number>>;

interface SidecarState {
  /** ts of the cost row the smoothed shares last moved for (-1 in stale mode). */
  readonly rowTs: number;
  /** Whether they came from a fresh cost row or are the even fallback. */
  readonly mode: 'fresh' | 'stale';
  /** Smoothed shares per service (each sums to 1 over its replicas). */
  readonly smoothed: Readonly<Record<string, Shares>>;
  /** The weights last handed out; kept until a move exceeds the deadband. */
  readonly published: ServiceWeights;
}

export interface PolicyState {
  /** The latest cost row per source attachment point. */
  readonly costs: Readonly<Record<string, CostRowHint>>;
  readonly sidecars: Readonly<Record<string, SidecarState>>;
}

export const initialPolicyState: PolicyState = { costs: {}, sidecars: {} };

/** Folds one hint into the state; returns the same object when the hint changes nothing.
 *  Only cost rows matter: congestion arrives as numbers in the next row, and a link going
 *  down makes the controller republish the rows it changes at once (rate limit or not). */
export function withHint(state: PolicyState, hint: Hint): PolicyState {
  if (hint.kind === 'cost_row') {
    const pid = hint.srcPid.toLowerCase();
    const prev = state.costs[pid];
    // A group of controllers is one source: a higher epoch (a new master) supersedes, a lower one
    // (a master that lost its lease) is ignored; within one epoch, ts orders.
    if (prev && rowOrder(prev, hint) > 0) return state;
    return { ...state, costs: { ...state.costs, [pid]: hint } };
  }
  return state;
}

/** >0 when `prev` outranks `next`: by epoch when both carry one, else by ts. */
export function rowOrder(prev: Pick<CostRowHint, 'ts'> & { readonly epoch?: number }, next: Pick<CostRowHint, 'ts'> & { readonly epoch?: number }): number {
  if (prev.epoch !== undefined && next.epoch !== undefined && prev.epoch !== next.epoch) return prev.epoch - next.epoch;
  return prev.ts - next.ts;
}

/** A row's entry for one destination (pids compared without case), if it lists it. */
export function entryFor(row: CostRowHint, dstPid: string): CostEntry | undefined {
  const i = row.costs.dstPid.findIndex((p) => p.toLowerCase() === dstPid);
  return i < 0 ? undefined : costEntryAt(row.costs, i);
}

export interface WeightsResult {
  /** Per sidecar, per service, per replica: integers summing to 1000 per service. */
  readonly weights: Readonly<Record<string, ServiceWeights>>;
  /** Sidecars whose published weights differ from the previous step. */
  readonly changed: readonly string[];
  readonly state: PolicyState;
}

/** Asked before an ordinary move (same replicas, none to or from 0, same fresh/stale mode) is
 *  published; false keeps the last weights. Reachability and mode changes are never held. */
export type WeightsGate = (sidecarId: string, service: string, last: Readonly<Record<string, number>>, next: Readonly<Record<string, number>>) => boolean;

/** Replaces the room read from the cost row for one replica (the arbiter's reading of it). */
export type RoomView = (sidecarId: string, service: string, replicaId: string, room: number) => number;

export function computeWeights(
  registry: Registry,
  state: PolicyState,
  now: number,
  params: PolicyParams = defaultPolicyParams,
  gate?: WeightsGate,
  view?: RoomView,
): WeightsResult {
  const weights: Record<string, ServiceWeights> = {};
  const sidecars: Record<string, SidecarState> = {};
  const changed: string[] = [];
  for (const sc of registry.sidecars) {
    const pid = pidOf(registry, sc.host);
    const row = pid === undefined ? undefined : state.costs[pid];
    const mode = row && !isStale(row, now) ? 'fresh' : 'stale';
    const prev = state.sidecars[sc.id];
    const smoothed: Record<string, Shares> = {};
    const published: Record<string, Record<string, number>> = {};
    let differs = prev === undefined || prev.mode !== mode;
    for (const service of sc.calls) {
      const reps = replicasOf(registry, service);
      const seen = view && ((id: string, room: number) => view(sc.id, service, id, room));
      const target = mode === 'fresh' && row && pid ? targetShares(registry, reps, pid, row, params, seen) : even(reps);
      const prevShares = prev?.smoothed[service];
      // The average moves once per new cost row, by how much time that row covers; re-runs
      // without a new row (ticks, events, registry edits) only apply reachability changes.
      // So the result does not depend on how often the runner calls in.
      const rowTs = row?.ts ?? -1;
      const s =
        mode === 'fresh' && prev?.mode === 'fresh' && prevShares && sameKeys(prevShares, target)
          ? smooth(prevShares, target, rowTs === prev.rowTs ? 0 : rowTs - prev.rowTs, params.smoothingMs)
          : target;
      smoothed[service] = s;
      const candidate = toWeights(s);
      const last = prev?.published[service];
      const held = (): boolean => gate !== undefined && last !== undefined && isOrdinaryMove(last, candidate) && !gate(sc.id, service, last, candidate);
      if (last && prev?.mode === mode && (withinDeadband(last, candidate, params.deadband) || held())) {
        published[service] = { ...last };
      } else {
        published[service] = candidate;
        differs = true;
      }
    }
    if (prev && !differs && Object.keys(prev.published).length !== sc.calls.length) differs = true;
    sidecars[sc.id] = { rowTs: mode === 'fresh' ? (row?.ts ?? -1) : -1, mode, smoothed, published };
    weights[sc.id] = published;
    if (differs) changed.push(sc.id);
  }
  return { weights, changed, state: { ...state, sidecars } };
}

/** How much room the best (or, with roomBasis worst, the most loaded) path has, 0..1: full below the knee, falling linearly to none at 100%. */
export function roomOf(entry: CostEntry, params: PolicyParams): number {
  const worst = params.roomBasis === 'worst';
  const u = worst ? entry.worstUtilization : entry.bottleneckUtilization;
  let room = u <= params.kneeUtilization ? 1 : Math.max(0, (1 - u) / (1 - params.kneeUtilization));
  const available = worst ? entry.worstAvailableBps : entry.availableBps;
  if ((worst ? entry.worstLevel : entry.level) === 'congested' && (u >= params.levelMinUtilization || available === 0)) room = Math.min(room, params.congestedRoomCap);
  if (available === 0) room = 0;
  return room;
}

/**
 * Whether the path to a replica has room for the classes below the first. No room: the path (the one
 * `roomBasis` reads) has a room figure at or under `shedRoom`, or its level is `congested` with load
 * behind it (utilization at `intentClearUtilization` or above, the arbiter's "hot"). One threshold, no
 * hysteresis: the cost rows are already smoothed by the controller, and a sidecar told "no room" still
 * sends its first class, so a flip costs the lower classes one row period at most.
 */
export function pathHasRoom(entry: CostEntry, params: PolicyParams): boolean {
  if (roomOf(entry, params) <= params.shedRoom) return false;
  const worst = params.roomBasis === 'worst';
  const level = worst ? entry.worstLevel : entry.level;
  const u = worst ? entry.worstUtilization : entry.bottleneckUtilization;
  return !(level === 'congested' && u >= params.intentClearUtilization);
}

/**
 * The replicas a sidecar should send only its highest class, from its attachment point's cost row.
 * Only a fresh row with a reachable entry can say "no room": stale or missing data, an unknown
 * attachment point, the sidecar's own switch and unreachable replicas (their weight is 0 anyway)
 * all leave the path with room, so nothing is shed on a guess.
 */
export function replicasWithoutRoom(registry: Registry, sidecar: Sidecar, costs: Readonly<Record<string, CostRowHint>>, now: number, params: PolicyParams = defaultPolicyParams): string[] {
  const srcPid = pidOf(registry, sidecar.host);
  const row = srcPid === undefined ? undefined : costs[srcPid];
  if (!row || isStale(row, now)) return [];
  const out: string[] = [];
  for (const service of sidecar.calls) {
    for (const rep of replicasOf(registry, service)) {
      const dstPid = pidOf(registry, rep.host);
      if (dstPid === undefined || dstPid === srcPid) continue;
      const e = entryFor(row, dstPid);
      if (e === undefined || e.level === 'down' || e.paths === 0) continue;
      if (!pathHasRoom(e, params) && !out.includes(rep.id)) out.push(rep.id);
    }
  }
  return out;
}

type Reach = { kind: 'unreachable' } | { kind: 'room'; room: number };

function reachOf(registry: Registry, rep: Replica, srcPid: string, row: CostRowHint, params: PolicyParams): Reach {
  const dstPid = pidOf(registry, rep.host);
  // A replica whose host has no known attachment point is judged neutral, not dead:
  // the registry is incomplete, the network has said nothing against it.
  if (dstPid === undefined) return { kind: 'room', room: 1 };
  const entry = entryFor(row, dstPid);
  if (!entry) return dstPid === srcPid ? { kind: 'room', room: 1 } : { kind: 'unreachable' };
  if (entry.level === 'down' || entry.paths === 0) return { kind: 'unreachable' };
  // Flows are spread over the equal-cost paths, but the controller's least-congested intent can
  // put them on the best one: its room is what the replica can be offered.
  return { kind: 'room', room: roomOf(entry, params) };
}

function targetShares(
  registry: Registry,
  reps: readonly Replica[],
  srcPid: string,
  row: CostRowHint,
  params: PolicyParams,
  view?: (replicaId: string, room: number) => number,
): Shares {
  const rooms = new Map<string, number>();
  for (const r of reps) {
    const reach = reachOf(registry, r, srcPid, row, params);
    if (reach.kind === 'room') rooms.set(r.id, view ? view(r.id, reach.room) : reach.room);
  }
  // Nothing reachable: the map may be wrong or partitioned; sending nothing anywhere
  // helps nobody, so fail open to even weights.
  if (rooms.size === 0) return even(reps);
  const shares = floorShares(rooms, params.floor);
  const out: Record<string, number> = {};
  for (const r of reps) out[r.id] = shares.get(r.id) ?? 0;
  return out;
}

/** Shares proportional to room, with every member held at or above `floor`. */
export function floorShares(rooms: ReadonlyMap<string, number>, floor: number): Map<string, number> {
  const ids = [...rooms.keys()];
  const n = ids.length;
  const out = new Map<string, number>();
  if (n * floor >= 1) {
    for (const id of ids) out.set(id, 1 / n);
    return out;
  }
  const pinned = new Set<string>();
  // Water-filling: pin whoever falls under the floor, share the rest by room, repeat.
  for (;;) {
    const free = ids.filter((id) => !pinned.has(id));
    const mass = 1 - pinned.size * floor;
    const total = free.reduce((a, id) => a + (rooms.get(id) ?? 0), 0);
    let again = false;
    for (const id of free) {
      const share = total > 0 ? (mass * (rooms.get(id) ?? 0)) / total : mass / free.length;
      if (share < floor) {
        pinned.add(id);
        again = true;
      }
      out.set(id, share);
    }
    if (!again) break;
  }
  for (const id of pinned) out.set(id, floor);
  return out;
}

function even(reps: readonly Replica[]): Shares {
  const out: Record<string, number> = {};
  for (const r of reps) out[r.id] = 1 / reps.length;
  return out;
}

function sameKeys(a: Shares, b: Shares): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => k in b);
}

/** EWMA over irregularly spaced rows: alpha grows with the time a row covers, so a row
 *  after a long silence counts for more than one of a quick burst. A replica that became
 *  unreachable drops to zero at once (no traffic into a dead path); one that came back
 *  starts at its target (at least the floor), not at zero. */
function smooth(prev: Shares, target: Shares, dtMs: number, tauMs: number): Shares {
  const alpha = tauMs <= 0 ? 1 : 1 - Math.exp(-Math.max(0, dtMs) / tauMs);
  const out: Record<string, number> = {};
  let sum = 0;
  for (const [id, t] of Object.entries(target)) {
    const p = prev[id] ?? t;
    const v = t === 0 ? 0 : p === 0 ? t : p + alpha * (t - p);
    out[id] = v;
    sum += v;
  }
  if (sum > 0) for (const id of Object.keys(out)) out[id] = (out[id] ?? 0) / sum;
  return out;
}

/** Integers summing to 1000 (largest remainder), never rounding a live replica to 0. */
export function toWeights(shares: Shares): Record<string, number> {
  const entries = Object.entries(shares);
  const out: Record<string, number> = {};
  if (entries.length === 0) return out;
  const raw = entries.map(([id, s]) => ({ id, x: s * WEIGHT_TOTAL }));
  let left = WEIGHT_TOTAL;
  for (const { id, x } of raw) {
    const w = x > 0 ? Math.max(1, Math.floor(x)) : 0;
    out[id] = w;
    left -= w;
  }
  const byRemainder = raw.filter((r) => r.x > 0).sort((a, b) => (b.x - Math.floor(b.x)) - (a.x - Math.floor(a.x)) || a.id.localeCompare(b.id));
  for (let i = 0; left > 0 && byRemainder.length > 0; i = (i + 1) % byRemainder.length, left--) {
    const id = byRemainder[i]!.id;
    out[id] = (out[id] ?? 0) + 1;
  }
  return out;
}

/** Same replicas, none going to or from 0: a move a gate may hold (the rest are reachability). */
function isOrdinaryMove(last: Readonly<Record<string, number>>, next: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(next);
  if (keys.length !== Object.keys(last).length) return false;
  return keys.every((k) => last[k] !== undefined && (last[k] === 0) === ((next[k] ?? 0) === 0));
}

function withinDeadband(last: Readonly<Record<string, number>>, next: Readonly<Record<string, number>>, deadband: number): boolean {
  const keys = Object.keys(next);
  if (keys.length !== Object.keys(last).length) return false;
  for (const k of keys) {
    const a = last[k];
    const b = next[k] ?? 0;
    if (a === undefined) return false;
    // Going to or from zero is a reachability change: always republish it.
    if ((a === 0) !== (b === 0)) return false;
    if (Math.abs(a - b) >= deadband) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Intents: asking the network for a better path when a service's path is congested.

export interface IntentSpec {
  /** Stable identity of the traffic class, so the runner can pair creates with deletes. */
  readonly key: string;
  readonly src: string;
  readonly dst: string;
  readonly policy: 'least-congested';
  readonly ipProto?: number;
  readonly dstPort?: number;
  readonly priority?: 'high';
}

export interface IntentDecision {
  /** Every intent that should exist now. */
  readonly desired: readonly IntentSpec[];
  readonly create: readonly IntentSpec[];
  /** Keys of active intents to withdraw. */
  readonly remove: readonly string[];
}

/** The intent that keeps one sidecar host's calls to one replica on the least congested path. */
export function intentSpecFor(srcHost: string, rep: Replica, latencySensitive: boolean): IntentSpec {
  return {
    key: `${srcHost}>${rep.host}:${rep.port}`,
    src: srcHost,
    dst: rep.host,
    policy: 'least-congested',
    ipProto: 6,
    dstPort: rep.port,
    ...(latencySensitive ? { priority: 'high' as const } : {}),
  };
}

/** Whether the network has another path with room between two attachment points.
 *  Unknown (undefined) lets the controller decide: least-congested keeps the same path
 *  when nothing better exists. */
export type AlternativeOracle = (srcPid: string, dstPid: string) => boolean | undefined;

export function intentsFor(
  registry: Registry,
  costs: Readonly<Record<string, CostRowHint>>,
  active: ReadonlySet<string>,
  now: number,
  params: PolicyParams = defaultPolicyParams,
  hasAlternative: AlternativeOracle = () => undefined,
): IntentDecision {
  const desired = new Map<string, IntentSpec>();
  for (const sc of registry.sidecars) {
    const srcPid = pidOf(registry, sc.host);
    if (srcPid === undefined) continue;
    const row = costs[srcPid];
    for (const service of sc.calls) {
      const latencySensitive = registry.services.find((s) => s.name === service)?.latencySensitive === true;
      for (const rep of replicasOf(registry, service)) {
        const dstPid = pidOf(registry, rep.host);
        if (dstPid === undefined || dstPid === srcPid) continue;
        const spec = intentSpecFor(sc.host, rep, latencySensitive);
        const key = spec.key;
        const wasActive = active.has(key);
        // A stale picture is no reason to churn: keep what is there, start nothing.
        if (!row || isStale(row, now)) {
          if (wasActive) desired.set(key, spec);
          continue;
        }
        // Flows may be hashed onto any of the equal-cost paths, so the one to watch is the most
        // loaded (worst); another path has room when there are several and the best is not congested.
        const e = entryFor(row, dstPid);
        if (e === undefined || e.level === 'down' || e.paths === 0) continue;
        const onset = e.worstLevel === 'congested' || e.worstUtilization >= params.intentOnsetUtilization;
        const hold = wasActive && (e.worstLevel === 'congested' || e.worstUtilization >= params.intentClearUtilization);
        const bestCongested = e.level === 'congested' || e.bottleneckUtilization >= params.intentOnsetUtilization;
        // With one shortest path the row cannot say; the network may still know a longer way,
        // so the oracle (or the controller) decides.
        const alternative = e.paths > 1 ? !bestCongested : hasAlternative(srcPid, dstPid);
        if (onset && !wasActive && alternative === false) continue;
        if (onset || hold) desired.set(key, spec);
      }
    }
  }
  const create = [...desired.values()].filter((s) => !active.has(s.key));
  const remove = [...active].filter((k) => !desired.has(k));
  return { desired: [...desired.values()], create, remove };
}

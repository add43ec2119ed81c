// The arbiter: one decision per sidecar and service about which lever to pull (the network path
// through an intent, the traffic split through weights, or neither) instead of two loops that can
// undo each other. A pure step, Faucet-style: (registry, cost rows, its own state, active intents,
// now) → (weights, intents to create and withdraw, decisions with reasons, next state).
//
// Rule, read from the sidecar's cost row per replica:
//  - a replica's most loaded path is congested but another equal-cost path is not ("avoidable"):
//    move the path (a least-congested intent); the weights, read from the best path, stay;
//  - every path to one replica is congested while another replica has room ("bound", e.g. its
//    access or leaf link): move weights; a path move cannot help;
//  - every replica's paths are congested ("shared", e.g. the sidecar's own uplinks): move the
//    path (the controller may know a way round); weights would only shuffle load between equals.
// Hold-downs: each change waits `effectMs` after the service's last change of either lever (time
// to show in the cost rows), so both levers never move together; a lever may follow the other
// within its hold-down only once that effect was seen not to help (congestion still there).
// A move that would undo an earlier one (weights back towards a replica, an intent withdrawn or
// asked again) waits out the hold-down of the move it undoes, so A→B→A never happens inside it.
// Few moves, each a whole one: with a path lever the weights read the shapes, not the room figures,
// so a split is either even or the floor for every replica behind congestion no path avoids, and
// one publication takes it there (no steps, no moves too small to matter); a replica left stays
// left until its paths cool below the clear mark. An intent goes once its paths have been cool for
// `pathIdleMs` (one cool row is no reason to move flows), and not much later: a least-congested intent
// is the controller's own loop, which moves the path on load, the load the weights put on it included.
import { isStale, type CostRowHint, type EventHint } from './hints.ts';
import {
  computeWeights,
  entryFor,
  intentSpecFor,
  type IntentDecision,
  type IntentSpec,
  type PolicyParams,
  type PolicyState,
  type RoomView,
  type WeightsResult,
  WEIGHT_TOTAL,
} from './policy.ts';
import { pidOf, replicasOf, type Registry } from './registry.ts';

export interface ArbiterParams {
  /** A weights move towards a replica after one away from it (or back) waits this long. */
  readonly weightsHoldMs: number;
  /** An intent is kept at least this long, and not asked again sooner after its withdrawal. */
  readonly pathHoldMs: number;
  /** An intent is withdrawn once every path to its replica has stayed below the clear mark this long. */
  readonly pathIdleMs: number;
  /** Time for a change to show in the cost rows: the service's next change of either lever waits this long. */
  readonly effectMs: number;
  /** A split within this much of even (of 1000, per replica) counts as even: nothing of the weights' to undo. */
  readonly evenWithin: number;
}

// Both hold-downs a little above 10 s, so no A→B→A falls within 10 s even with timing jitter.
// An intent outlives its congestion by two cost rows (the controller sends one a second at most).
export const defaultArbiterParams: ArbiterParams = { weightsHoldMs: 12_000, pathHoldMs: 12_000, pathIdleMs: 2_000, effectMs: 3_000, evenWithin: 10 };

/** What congestion looks like from the sidecar's attachment point towards one replica. */
export type Shape = 'clear' | 'avoidable' | 'bound' | 'shared' | 'unknown';
export type Lever = 'path' | 'weights';

interface ReplicaMove {
  readonly at: number;
  /** +1: its weight went up; -1: down. */
  readonly dir: 1 | -1;
}

interface ServiceSlot {
  /** When each lever last moved for this sidecar's service. */
  readonly weightsAt?: number;
  readonly pathAt?: number;
  /** The last weights move of each replica, for the reversal rule. */
  readonly moves: Readonly<Record<string, ReplicaMove>>;
  /** The last hold announced per lever and replica, so a held move is told once, not at every run. */
  readonly held: Readonly<Record<string, string>>;
}

interface PathSlot {
  readonly createdAt?: number;
  readonly withdrawnAt?: number;
  /** Since when every path to the replica has been below the clear mark, while the intent is held. */
  readonly coolSince?: number;
}

export interface ArbiterState {
  /** By `<sidecar id>/<service>`. */
  readonly services: Readonly<Record<string, ServiceSlot>>;
  /** By intent key. */
  readonly paths: Readonly<Record<string, PathSlot>>;
}

export const initialArbiterState: ArbiterState = { services: {}, paths: {} };
const EMPTY: ServiceSlot = { moves: {}, held: {} };

/** One decision, as it goes on the bus (`arbiter_decision` event detail). */
export interface ArbiterDecision {
  readonly sidecar: string;
  readonly service: string;
  readonly lever: Lever;
  readonly action: 'move' | 'withdraw' | 'hold';
  /** The replica a path decision is about; weights decisions are about the service. */
  readonly replica?: string;
  readonly intent?: string;
  /** Weights: the published weights after a move, or the ones held back. */
  readonly weights?: Readonly<Record<string, number>>;
  readonly shapes: Readonly<Record<string, Shape>>;
  readonly reason: string;
}

export interface ArbiterStep {
  readonly weights: WeightsResult;
  readonly intents: IntentDecision;
  readonly decisions: readonly ArbiterDecision[];
  readonly state: ArbiterState;
}

export interface ArbiterOptions {
  /** Whether a path lever exists (the bridge talks to a controller). Without it the weights must
   *  cover congestion a path move would have avoided, so they read the most loaded path. */
  readonly paths: boolean;
}

/**
 * Whether a path is congested enough to act on: utilization at the onset mark, or the controller's
 * 'congested' level with real load behind it (at least the clear mark) or an unknown capacity (no
 * room figure: the level is all there is). A level the delay probes raise on a link that carries
 * almost nothing is no congestion of that link (under CPU contention every probe sees delay), and
 * neither lever would help.
 */
function hot(level: string, utilization: number, roomBps: number, p: PolicyParams): boolean {
  if (utilization >= p.intentOnsetUtilization) return true;
  return level === 'congested' && (utilization >= p.intentClearUtilization || roomBps === 0);
}

/** How congested one replica's paths are, from the row's entry. */
export function shapeOf(row: CostRowHint, srcPid: string, dstPid: string | undefined, p: PolicyParams): Shape {
  if (dstPid === undefined) return 'unknown';
  if (dstPid === srcPid) return 'clear';
  const e = entryFor(row, dstPid);
  if (e === undefined || e.level === 'down' || e.paths === 0) return 'unknown';
  if (hot(e.level, e.bottleneckUtilization, e.availableBps, p)) return 'bound';
  return hot(e.worstLevel, e.worstUtilization, e.worstAvailableBps, p) ? 'avoidable' : 'clear';
}

/**
 * Whether a replica's paths are below the clear mark: its worst path (an intent held for it may go)
 * or its best (a replica the weights left may have its share back).
 */
function cooled(row: CostRowHint, dstPid: string | undefined, p: PolicyParams, path: 'worst' | 'best'): boolean {
  if (dstPid === undefined) return false;
  const e = entryFor(row, dstPid);
  if (e === undefined) return false;
  const [level, utilization, availableBps] = path === 'worst' ? [e.worstLevel, e.worstUtilization, e.worstAvailableBps] : [e.level, e.bottleneckUtilization, e.availableBps];
  return utilization < p.intentClearUtilization && !(level === 'congested' && availableBps === 0);
}

const slotKey = (sidecar: string, service: string): string => `${sidecar}/${service}`;
const since = (t: number | undefined, now: number): number => (t === undefined ? Infinity : now - t);

export function arbitrate(
  registry: Registry,
  policy: PolicyState,
  state: ArbiterState,
  active: ReadonlySet<string>,
  now: number,
  pp: PolicyParams,
  ap: ArbiterParams = defaultArbiterParams,
  opts: ArbiterOptions = { paths: true },
): ArbiterStep {
  const services: Record<string, ServiceSlot> = { ...state.services };
  const paths: Record<string, PathSlot> = { ...state.paths };
  const decisions: ArbiterDecision[] = [];
  const desired = new Map<string, IntentSpec>();
  const shapesBySlot = new Map<string, Record<string, Shape>>();
  /** Per slot, the replicas whose best path is below the clear mark. */
  const cooledBySlot = new Map<string, Set<string>>();
  /** Slots whose path lever moved in this step: their weights wait. */
  const pathMovedNow = new Set<string>();

  const hold = (key: string, d: ArbiterDecision): void => {
    const slot = services[key] ?? EMPTY;
    const at = `${d.lever}:${d.replica ?? ''}`;
    if (slot.held[at] === d.reason) return;
    services[key] = { ...slot, held: { ...slot.held, [at]: d.reason } };
    decisions.push(d);
  };
  /** A move clears what was announced as held for that lever and replica. */
  const moved = (slot: ServiceSlot, lever: Lever, replica = ''): Readonly<Record<string, string>> => {
    const { [`${lever}:${replica}`]: _gone, ...rest } = slot.held;
    return rest;
  };

  // 1. The path lever, per replica.
  for (const sc of registry.sidecars) {
    const srcPid = pidOf(registry, sc.host);
    const row = srcPid === undefined ? undefined : policy.costs[srcPid];
    const fresh = row !== undefined && !isStale(row, now);
    for (const service of sc.calls) {
      const key = slotKey(sc.id, service);
      const reps = replicasOf(registry, service);
      const shapes: Record<string, Shape> = {};
      for (const r of reps) shapes[r.id] = fresh && srcPid ? shapeOf(row, srcPid, pidOf(registry, r.host), pp) : 'unknown';
      const remote = reps.filter((r) => shapes[r.id] !== 'unknown' && pidOf(registry, r.host) !== srcPid);
      // Every replica hot: nothing to balance towards; only the network may know another way.
      if (remote.length > 0 && remote.length === reps.length && remote.every((r) => shapes[r.id] === 'bound')) for (const r of remote) shapes[r.id] = 'shared';
      shapesBySlot.set(key, shapes);
      if (fresh) cooledBySlot.set(key, new Set(reps.filter((r) => cooled(row, pidOf(registry, r.host), pp, 'best')).map((r) => r.id)));
      const latencySensitive = registry.services.find((s) => s.name === service)?.latencySensitive === true;
      for (const rep of reps) {
        const dstPid = pidOf(registry, rep.host);
        if (dstPid === undefined || dstPid === srcPid) continue;
        const spec = intentSpecFor(sc.host, rep, latencySensitive);
        const isActive = active.has(spec.key);
        // A stale picture is no reason to change anything: keep what is there, start nothing.
        if (!fresh || !opts.paths) {
          if (isActive) desired.set(spec.key, spec);
          continue;
        }
        const slot = services[key] ?? EMPTY;
        const ps = paths[spec.key] ?? {};
        const shape = shapes[rep.id] ?? 'unknown';
        const base = { sidecar: sc.id, service, lever: 'path' as const, replica: rep.id, intent: spec.key, shapes };
        if (isActive) {
          if (!cooled(row, dstPid, pp, 'worst')) {
            if (ps.coolSince !== undefined) paths[spec.key] = { ...ps, coolSince: undefined };
            desired.set(spec.key, spec);
            continue;
          }
          const coolSince = ps.coolSince ?? now;
          if (ps.coolSince === undefined) paths[spec.key] = { ...ps, coolSince };
          // Withdrawing puts the flows back on hashed paths: a path move like any other.
          const why = waitFor(now, [
            [ps.createdAt, ap.pathHoldMs, 'path hold-down: the intent is younger than its hold-down'],
            [coolSince, ap.pathIdleMs, 'the paths have not been cool long enough for the intent to go'],
            [slot.pathAt, ap.effectMs, 'the last path move has not shown yet'],
            [slot.weightsAt, ap.effectMs, 'the last weights move has not shown yet'],
          ]);
          if (why !== undefined || pathMovedNow.has(key)) {
            desired.set(spec.key, spec);
            hold(key, { ...base, action: 'hold', reason: `withdraw held: ${why ?? 'another path moved in this step'}` });
            continue;
          }
          paths[spec.key] = { withdrawnAt: now };
          services[key] = { ...slot, pathAt: now, held: moved(slot, 'path', rep.id) };
          pathMovedNow.add(key);
          decisions.push({ ...base, action: 'withdraw', reason: `every path to the replica has been below the clear mark for ${ap.pathIdleMs / 1000} s` });
          continue;
        }
        if (shape !== 'avoidable' && shape !== 'shared') continue;
        const why = waitFor(now, [
          [ps.withdrawnAt, ap.pathHoldMs, 'would undo the withdrawal within its hold-down'],
          [slot.pathAt, ap.effectMs, 'the last path move has not shown yet'],
          // Inside the weights' hold-down only once their effect was seen: the congestion is still here.
          [slot.weightsAt, ap.effectMs, 'the last weights move has not shown yet'],
        ]);
        if (why !== undefined || pathMovedNow.has(key)) {
          hold(key, { ...base, action: 'hold', reason: `path move held: ${why ?? 'another path moved in this step'}` });
          continue;
        }
        desired.set(spec.key, spec);
        paths[spec.key] = { ...ps, createdAt: now, coolSince: undefined };
        services[key] = { ...slot, pathAt: now, held: moved(slot, 'path', rep.id) };
        pathMovedNow.add(key);
        decisions.push({
          ...base,
          action: 'move',
          reason: shape === 'avoidable' ? 'a path to the replica is congested and another equal-cost path is not' : 'every replica is behind congestion: only the network may know a way round',
        });
      }
    }
  }

  // 2. The weights lever, through the policy with a gate that applies the hold-downs.
  const gate = (sidecar: string, service: string, last: Readonly<Record<string, number>>, next: Readonly<Record<string, number>>): boolean => {
    const key = slotKey(sidecar, service);
    const slot = services[key] ?? EMPTY;
    const shapes = shapesBySlot.get(key) ?? {};
    const base = { sidecar, service, lever: 'weights' as const, weights: next, shapes };
    const reversing = Object.keys(next).find((id) => {
      const m = slot.moves[id];
      const d = Math.sign((next[id] ?? 0) - (last[id] ?? 0));
      return m !== undefined && d !== 0 && d !== m.dir && now - m.at < ap.weightsHoldMs;
    });
    const shapeList = Object.values(shapes);
    // The weights lever is for congestion no path avoids, and for undoing its own moves once that is gone.
    // Without a path lever, congestion a path would have avoided is the weights' too.
    const calledFor = shapeList.some((s) => s === 'bound' || (!opts.paths && s === 'avoidable')) || !isEven(last, ap.evenWithin);
    // Never more weight towards a replica every path to which is congested.
    const towardsHot = Object.keys(next).find((id) => shapes[id] === 'bound' && (next[id] ?? 0) > (last[id] ?? 0));
    const why = pathMovedNow.has(key)
      ? 'a path moved in this step'
      : towardsHot !== undefined
        ? `would move weight towards ${towardsHot}, still behind congestion no path avoids`
        : reversing !== undefined
          ? `would reverse ${reversing}'s last move within the hold-down`
          : shapeList.some((s) => s === 'shared')
            ? 'every replica is behind congestion: weights cannot help'
            : !calledFor
              ? 'no replica is behind congestion a path cannot avoid'
              : waitFor(now, [
                  [slot.weightsAt, ap.effectMs, 'the last weights move has not shown yet'],
                  [slot.pathAt, ap.effectMs, 'the last path move has not shown yet'],
                ]);
    if (why === undefined) return true;
    hold(key, { ...base, action: 'hold', reason: `weights held: ${why}` });
    return false;
  };
  // With a path lever the weights read the shapes, not the room figures (see the header): the floor for
  // a replica behind congestion no path avoids, and for one they left until its best path cools below
  // the clear mark (a row dipping under the onset mark brings no load back); an even share for the rest,
  // as congestion a path avoids and load under the onset mark are the network's to balance.
  const view: RoomView | undefined = !opts.paths
    ? undefined
    : (sidecar, service, id, room) => {
        const key = slotKey(sidecar, service);
        const shape = shapesBySlot.get(key)?.[id];
        if (shape === 'bound') return 0;
        if (shape !== 'clear' && shape !== 'avoidable') return room;
        const last = policy.sidecars[sidecar]?.published[service];
        const left = last !== undefined && (last[id] ?? 0) < WEIGHT_TOTAL / Object.keys(last).length - ap.evenWithin;
        return left && !cooledBySlot.get(key)?.has(id) ? 0 : 1;
      };
  // The weights read congestion as the shapes do: a congested level needs load behind it. With the
  // shapes read, a move goes the whole way in one publication: the hold-downs do the smoothing.
  const params = { ...pp, levelMinUtilization: pp.intentClearUtilization, ...(opts.paths ? { smoothingMs: 0 } : { roomBasis: 'worst' as const }) };
  const weights = computeWeights(registry, policy, now, params, gate, view);

  // 3. Record the weights moves that went out (reachability changes included: they are moves too).
  for (const sc of registry.sidecars) {
    const prev = policy.sidecars[sc.id]?.published;
    const next = weights.weights[sc.id];
    if (!prev || !next) continue;
    for (const service of sc.calls) {
      const a = prev[service];
      const b = next[service];
      if (!a || !b || sameWeights(a, b)) continue;
      const key = slotKey(sc.id, service);
      const slot = services[key] ?? EMPTY;
      const moves: Record<string, ReplicaMove> = { ...slot.moves };
      for (const id of Object.keys(b)) {
        const d = Math.sign((b[id] ?? 0) - (a[id] ?? 0));
        if (d !== 0) moves[id] = { at: now, dir: d > 0 ? 1 : -1 };
      }
      services[key] = { ...slot, weightsAt: now, moves, held: moved(slot, 'weights') };
      decisions.push({ sidecar: sc.id, service, lever: 'weights', action: 'move', weights: b, shapes: shapesBySlot.get(key) ?? {}, reason: weightsReason(shapesBySlot.get(key) ?? {}, a, b) });
    }
  }

  const create = [...desired.values()].filter((s) => !active.has(s.key));
  const remove = [...active].filter((k) => !desired.has(k));
  return { weights, intents: { desired: [...desired.values()], create, remove }, decisions, state: { services, paths } };
}

/** The first reason to wait, if any: each entry is (when the earlier move was, how long it holds, why). */
function waitFor(now: number, rules: readonly (readonly [number | undefined, number, string])[]): string | undefined {
  for (const [at, ms, why] of rules) if (since(at, now) < ms) return why;
  return undefined;
}

/** Whether a split is even, give or take `within` (of 1000) per replica. */
function isEven(w: Readonly<Record<string, number>>, within: number): boolean {
  const ids = Object.keys(w);
  return ids.every((id) => Math.abs((w[id] ?? 0) - 1000 / ids.length) <= within);
}

function sameWeights(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function weightsReason(shapes: Readonly<Record<string, Shape>>, a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): string {
  const bound = Object.keys(shapes).filter((id) => shapes[id] === 'bound');
  if (bound.length > 0) return `no path avoids the congestion towards ${bound.join(', ')}: move the split`;
  const back = Object.keys(b).filter((id) => (b[id] ?? 0) > (a[id] ?? 0));
  return back.length > 0 ? `room again towards ${back.join(', ')}` : 'the split follows the cost rows';
}

/** The decision as an event hint body for the bus. */
export function decisionEvent(d: ArbiterDecision): Omit<EventHint, 'v' | 'ts' | 'seq' | 'ttlMs' | 'source'> {
  return { kind: 'event', event: 'arbiter_decision', detail: { ...d } };
}


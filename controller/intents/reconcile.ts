// Keeping intents true as a pure step: (intents, network view, now) → {next intents, programs per
// switch, path changes}. Creation, removal and every later change of the network go through here;
// the service only feeds it and carries out the programs, in order, each to its barrier.
import type { SwitchGraph } from '../topology/graph.ts';
import type { HostTable } from '../topology/hosts.ts';
import type { SwitchProgram } from '../routing/forwarding.ts';
import { endOf, loadOf, planIntent, type Utilization } from './plan.ts';
import { deleteByCookie } from '../routing/ofmsg.ts';
import { installPrograms, reverseClass, switchesOf } from './rules.ts';
import { intentCookie, INTENT_COOKIE_MASK } from '../cookies.ts';
import type { IntentPath, IntentRecord, IntentSettings, IntentSpec, IntentsState, MoveReason, PathChange, TrafficClass } from './types.ts';

export interface NetworkView {
  readonly graph: SwitchGraph;
  readonly hosts: HostTable;
  /** Utilization by link id, as the monitor last assessed it. */
  readonly loads: Utilization;
  /** What each intent's own traffic adds, by intent id then link id (when measured). */
  readonly own?: ReadonlyMap<string, Utilization>;
}

export interface IntentStep {
  readonly state: IntentsState;
  /** Run in order, each switch's messages to their barrier. */
  readonly programs: readonly SwitchProgram[];
  readonly changes: readonly PathChange[];
}

export type AddResult =
  | { readonly ok: true; readonly step: IntentStep; readonly record: IntentRecord }
  | { readonly ok: false; readonly status: 400 | 409; readonly error: string; readonly message: string; readonly id?: string };

/** Adds an intent and installs its path; an explicit path that cannot hold, or a class already claimed, is refused. */
export function addIntent(state: IntentsState, spec: IntentSpec, net: NetworkView, now: number, settings: IntentSettings): AddResult {
  const clash = [...state.records.values()].find((r) => overlapsExactly(r.spec.traffic, spec.traffic));
  if (clash !== undefined) {
    return { ok: false, status: 409, error: 'conflict', message: `intent ${clash.id} already carries this class of traffic (or its replies)`, id: clash.id };
  }
  const plan = planIntent(net.graph, net.loads, spec, net.hosts, { tieBand: settings.tieBand });
  if (!plan.ok && plan.kind === 'invalid') return { ok: false, status: 400, error: 'bad_request', message: `/${spec.policy.name === 'explicit' ? 'path' : 'dst'}: ${plan.error}` };
  const num = state.nextNum;
  const fresh: IntentRecord = {
    id: `i${num}`,
    num,
    spec,
    createdAt: now,
    status: 'unsatisfiable',
    path: undefined,
    reason: plan.ok ? undefined : plan.error,
    version: 0,
    touched: new Set(),
    movedAt: now,
  };
  const done = plan.ok ? install(fresh, plan.path, undefined, now, settings.priority) : { record: fresh, programs: [], change: undefined };
  const records = new Map(state.records).set(done.record.id, done.record);
  return { ok: true, record: done.record, step: { state: { records, nextNum: num + 1 }, programs: done.programs, changes: [] } };
}

/** Removes an intent and every rule it ever installed; undefined for an unknown id. */
export function removeIntent(state: IntentsState, id: string): IntentStep | undefined {
  const rec = state.records.get(id);
  if (rec === undefined) return undefined;
  const records = new Map(state.records);
  records.delete(id);
  return { state: { ...state, records }, programs: deleteAll(rec), changes: [] };
}

/** Every intent checked against the network now: broken paths replaced, better ones taken when policy says so. */
export function reconcile(state: IntentsState, net: NetworkView, now: number, settings: IntentSettings): IntentStep {
  const records = new Map(state.records);
  const programs: SwitchProgram[] = [];
  const changes: PathChange[] = [];
  for (const rec of state.records.values()) {
    const d = decide(rec, net, now, settings);
    if (d.record === rec) continue;
    records.set(rec.id, d.record);
    programs.push(...d.programs);
    if (d.change) changes.push(d.change);
  }
  return { state: { ...state, records }, programs, changes };
}

interface Decision {
  readonly record: IntentRecord;
  readonly programs: readonly SwitchProgram[];
  readonly change: PathChange | undefined;
}

function decide(rec: IntentRecord, net: NetworkView, now: number, settings: IntentSettings): Decision {
  const own = net.own?.get(rec.id);
  const plan = planIntent(net.graph, net.loads, rec.spec, net.hosts, { tieBand: settings.tieBand, ...(own ? { own } : {}) });
  const keep: Decision = { record: rec, programs: [], change: undefined };
  if (rec.path === undefined) {
    if (plan.ok) return install(rec, plan.path, 'restored', now, settings.priority);
    return plan.error === rec.reason ? keep : { ...keep, record: { ...rec, reason: plan.error } };
  }
  const broken = brokenBy(rec.path, rec.spec, net);
  if (broken !== undefined) return plan.ok ? install(rec, plan.path, broken, now, settings.priority) : drop(rec, plan.error, broken);
  if (!plan.ok || samePath(plan.path, rec.path)) return keep;
  const why = betterBy(rec, plan.path, net.loads, own, now, settings);
  return why === undefined ? keep : install(rec, plan.path, why, now, settings.priority);
}

/** Whether a held path still works: every cable up both ways, both hosts where the path ends. */
function brokenBy(path: IntentPath, spec: IntentSpec, net: NetworkView): MoveReason | undefined {
  const src = endOf(net.hosts, spec.srcMac, spec.traffic.srcIp);
  const dst = endOf(net.hosts, spec.dstMac, spec.traffic.dstIp);
  const first = path.hops[0];
  const last = path.hops.at(-1);
  if (src === undefined || dst === undefined || first === undefined || last === undefined) return 'host_moved';
  if (first.dpid !== src.at.dpid || first.inPort !== src.at.port || last.dpid !== dst.at.dpid || last.outPort !== dst.at.port) return 'host_moved';
  const up = new Set(net.graph.edges().map((e) => e.name));
  return [...path.links, ...path.reverseLinks].every((id) => up.has(id)) ? undefined : 'link_down';
}

/**
 * Moving a working path reorders packets, so only some improvements are worth it: shortest and
 * avoid take a path with fewer hops (a cable came back); least-congested leaves a hot path (one
 * whose bottleneck is past the hot mark) for one whose bottleneck is lower by the margin, and not
 * within the minimum interval of its last move. A path that is merely busier than another is kept:
 * the intent avoids congestion, it does not balance load, and each move is a change the mesh sees.
 * Explicit paths never move on their own.
 */
function betterBy(rec: IntentRecord, next: IntentPath, loads: Utilization, own: Utilization | undefined, now: number, s: IntentSettings): MoveReason | undefined {
  const held = rec.path as IntentPath;
  switch (rec.spec.policy.name) {
    case 'shortest':
    case 'avoid':
      return next.hops.length < held.hops.length ? 'shorter' : undefined;
    case 'least-congested': {
      if (now - rec.movedAt < s.minMoveIntervalMs) return undefined;
      const load = loadOf(held, loads, own);
      return load >= s.hotMark && load - next.bottleneck >= s.moveMargin ? 'congestion' : undefined;
    }
    case 'explicit':
      return undefined;
    default:
      return undefined;
  }
}

/** New rules under a new version, egress first; then the old version's rules, wherever the new path did not overwrite them. */
function install(rec: IntentRecord, path: IntentPath, reason: MoveReason | undefined, now: number, basePriority: number): Decision {
  const version = (rec.version + 1) & 0xff_ffff;
  const programs = installPrograms(rec.spec, path, intentCookie(rec.num, version), basePriority);
  const record: IntentRecord = {
    ...rec,
    status: 'active',
    path,
    reason,
    version,
    touched: new Set([...rec.touched, ...switchesOf(path)]),
    movedAt: reason === undefined ? rec.movedAt : now,
  };
  const old = rec.path === undefined ? [] : switchesOf(rec.path).map((dpid) => ({ dpid, messages: [deleteByCookie(intentCookie(rec.num, rec.version))] }));
  const change = reason === undefined ? undefined : { id: rec.id, spec: rec.spec, from: rec.path, to: path, reason };
  return { record, programs: [...programs, ...old], change };
}

function drop(rec: IntentRecord, why: string, reason: MoveReason): Decision {
  const record: IntentRecord = { ...rec, status: 'unsatisfiable', path: undefined, reason: why, touched: new Set() };
  return { record, programs: deleteAll(rec), change: { id: rec.id, spec: rec.spec, from: rec.path, to: undefined, reason } };
}

function deleteAll(rec: IntentRecord): SwitchProgram[] {
  return [...rec.touched].map((dpid) => ({ dpid, messages: [deleteByCookie(intentCookie(rec.num), INTENT_COOKIE_MASK)] }));
}

function samePath(a: IntentPath, b: IntentPath): boolean {
  const key = (p: IntentPath): string => JSON.stringify([p.hops, p.reverseHops]);
  return key(a) === key(b);
}

const classKey = (t: TrafficClass): string => [t.srcIp, t.dstIp, t.ipProto ?? '*', t.srcPort ?? '*', t.dstPort ?? '*'].join('|');

/** Two intents whose rules would have the very same match (forward or reply direction) would overwrite each other. */
function overlapsExactly(a: TrafficClass, b: TrafficClass): boolean {
  const ka = [classKey(a), classKey(reverseClass(a))];
  return ka.includes(classKey(b)) || ka.includes(classKey(reverseClass(b)));
}

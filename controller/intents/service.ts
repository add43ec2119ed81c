// The intents service: holds the intents, feeds requests, topology events and monitor assessments
// to the pure steps (reconcile.ts), and carries out the programs they return through the switches'
// programmers, in waves (routing/programs.ts). Path changes go to whoever announces them, once their
// rules are in place.
import type { Logger } from 'pino';
import type { Controller } from '../controller.ts';
import type { Network } from '../routing/network.ts';
import type { Monitor } from '../monitor/monitor.ts';
import type { SwitchProgram } from '../routing/forwarding.ts';
import { PlanTracker, runPrograms } from '../routing/programs.ts';
import type { TopologyEvent } from '../topology/types.ts';
import { graphOf } from '../topology/snapshot.ts';
import type { SwitchGraph } from '../topology/graph.ts';
import { OFPG_ANY, OFPP_ANY, OFPTT_ALL } from 'openflow-ts';
import { systemClock, type Clock } from '../../bus/clock.ts';
import { utilizationOf, type Utilization } from './plan.ts';
import { addIntent, reconcile, removeIntent, type IntentStep, type NetworkView } from './reconcile.ts';
import { parseIntentRequest } from './request.ts';
import { classMatch, reverseClass } from './rules.ts';
import { intentCookie } from '../cookies.ts';
import { OwnLoads, type ByteSample } from './own-load.ts';
import { defaultIntentSettings, initialIntentsState, type IntentRecord, type IntentSettings, type IntentsState, type PathChange } from './types.ts';

export interface IntentServiceOptions {
  readonly settings?: Partial<IntentSettings>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Told of every path change, after its rules are in place (run.ts announces them as path_change events). */
  readonly onPathChange?: (change: PathChange) => void;
  /** Told of the intents after every step that changed them (qos/port-queues.ts follows their paths). */
  readonly onRecords?: (records: ReadonlyMap<string, IntentRecord>) => void;
}

export type CreateResult =
  | { readonly ok: true; readonly intent: IntentRecord }
  | { readonly ok: false; readonly status: 400 | 409; readonly error: string; readonly message: string; readonly id?: string };

export class IntentService {
  readonly settings: IntentSettings;
  readonly counters = { steps: 0, programsFailed: 0, moves: 0 };
  private current: IntentsState = initialIntentsState;
  private readonly plans = new PlanTracker();
  /** The last step's announcement of its path changes. */
  private announced: Promise<void> = Promise.resolve();
  private readonly measured = new OwnLoads();
  private readonly own = new Map<string, Utilization>();
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly controller: Controller,
    private readonly network: Network,
    private readonly monitor: Monitor | undefined,
    private readonly opts: IntentServiceOptions = {},
  ) {
    this.settings = { ...defaultIntentSettings, ...opts.settings };
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
  }

  start(): void {
    const onTopology = (_ev: TopologyEvent): void => this.reconcileNow();
    this.network.discovery.on('topology', onTopology);
    this.unsubscribe.push(() => this.network.discovery.off('topology', onTopology));
    if (this.monitor) {
      const monitor = this.monitor;
      // Each assessment: measure what least-congested intents carry themselves, then reconsider.
      const onAssessed = (): void => void this.measureOwn().finally(() => this.reconcileNow());
      monitor.on('assessed', onAssessed);
      this.unsubscribe.push(() => monitor.off('assessed', onAssessed));
    }
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  get state(): IntentsState {
    return this.current;
  }

  list(): IntentRecord[] {
    return [...this.current.records.values()].sort((a, b) => a.num - b.num);
  }

  get(id: string): IntentRecord | undefined {
    return this.current.records.get(id);
  }

  /** Checks a request body, plans it and starts installing its rules; settled() resolves once they are in. */
  create(body: unknown): CreateResult {
    const discovery = this.network.discovery;
    const parsed = parseIntentRequest(body, {
      findHost: (t) => this.network.findHost(t),
      isHostSyntax: (t) => this.network.isHostSyntax(t),
      links: discovery.links,
      switches: new Set(this.controller.switches.keys()),
    });
    if (!parsed.ok) return { ok: false, status: 400, error: 'bad_request', message: parsed.message };
    const added = addIntent(this.current, parsed.spec, this.view(), this.clock.now(), this.settings);
    if (!added.ok) return added;
    this.run(added.step);
    return { ok: true, intent: added.record };
  }

  /** Removes an intent and its rules on every switch it touched; false for an unknown id. */
  remove(id: string): boolean {
    const step = removeIntent(this.current, id);
    if (step === undefined) return false;
    this.measured.forget(id);
    this.own.delete(id);
    this.run(step);
    return true;
  }

  /**
   * Takes in intents another controller of the group held (cluster/intents.ts), with their numbers
   * and path versions, so their rules on the switches stay theirs; then checks them against the
   * network as it is. Intents already known (by id or number) are left as they are.
   */
  adopt(records: readonly IntentRecord[]): number {
    const nums = new Set([...this.current.records.values()].map((r) => r.num));
    const merged = new Map(this.current.records);
    let nextNum = this.current.nextNum;
    let n = 0;
    for (const r of records) {
      if (merged.has(r.id) || nums.has(r.num)) continue;
      merged.set(r.id, r);
      nextNum = Math.max(nextNum, r.num + 1);
      n++;
    }
    if (n === 0) return 0;
    this.current = { records: merged, nextNum };
    this.opts.onRecords?.(merged);
    this.reconcileNow();
    return n;
  }

  /** Resolves once every program made so far has been carried out. */
  settled(): Promise<void> {
    return this.plans.settled();
  }

  /** Checks every intent against the network as it is now; with no intent, costs nothing. */
  reconcileNow(): void {
    if (this.current.records.size === 0) return;
    this.run(reconcile(this.current, this.view(), this.clock.now(), this.settings));
  }

  /**
   * The network as intents plan on it. The switch graph and the loads are built on first use, at
   * most once per view, and a view lives for one event: a step that needs neither builds neither.
   */
  private view(): NetworkView {
    const discovery = this.network.discovery;
    const monitor = this.monitor;
    let graph: SwitchGraph | undefined;
    let loads: Utilization | undefined;
    return {
      get graph(): SwitchGraph {
        return (graph ??= graphOf(discovery.snapshot()));
      },
      hosts: discovery.hosts,
      get loads(): Utilization {
        return (loads ??= utilizationOf(monitor?.loads() ?? []));
      },
      own: this.own,
    };
  }

  private run(step: IntentStep): void {
    this.current = step.state;
    if (step.programs.length === 0 && step.changes.length === 0) return;
    this.opts.onRecords?.(step.state.records);
    this.counters.steps++;
    this.counters.moves += step.changes.length;
    const programs = step.programs;
    const changes = step.changes;
    // Programs are not queued behind earlier steps: each switch's programmer keeps the order of
    // submission, and every path version has cookies of its own. Announcements keep step order, so
    // a listener never hears an older path after a newer one.
    const installed = this.execute(programs);
    const previous = this.announced;
    const carried = (async () => {
      await installed;
      await previous;
      for (const c of changes) {
        try {
          this.opts.onPathChange?.(c);
        } catch (err) {
          this.log?.warn({ err: (err as Error).message }, 'path change listener failed');
        }
      }
    })();
    this.announced = carried.catch(() => undefined);
    this.plans.track(carried, (err) => this.log?.error({ err }, 'intent step failed'));
  }

  private async execute(programs: readonly SwitchProgram[]): Promise<void> {
    this.counters.programsFailed += await runPrograms(this.controller, programs, this.log, 'an intent program');
  }

  /** Byte counters of each least-congested intent's two ingress rules, turned into the load it adds. */
  private async measureOwn(): Promise<void> {
    const links = this.network.discovery.links;
    const held = this.list().filter((r) => r.spec.policy.name === 'least-congested' && r.path !== undefined);
    const heldIds = new Set(held.map((r) => r.id));
    for (const id of this.own.keys()) {
      if (heldIds.has(id)) continue;
      this.own.delete(id);
      this.measured.forget(id);
    }
    await Promise.all(
      held.map(async (r) => {
        const path = r.path;
        if (path === undefined) return;
        try {
          const cookie = intentCookie(r.num, r.version);
          const [fwdBytes, revBytes] = await Promise.all([
            this.bytesOf(path.hops[0]?.dpid, cookie, classMatch(r.spec.traffic)),
            this.bytesOf(path.reverseHops[0]?.dpid, cookie, classMatch(reverseClass(r.spec.traffic))),
          ]);
          const sample: ByteSample = { version: r.version, fwdBytes, revBytes, at: this.clock.now() };
          const own = this.measured.update(r.id, sample, path, links);
          if (own) this.own.set(r.id, own);
          else this.own.delete(r.id);
        } catch (err) {
          this.log?.debug({ id: r.id, err: (err as Error).message }, 'intent counters unavailable');
        }
      }),
    );
  }

  private async bytesOf(dpid: string | undefined, cookie: bigint, match: ReturnType<typeof classMatch>): Promise<bigint> {
    const session = dpid === undefined ? undefined : this.controller.switches.get(dpid);
    if (session === undefined) throw new Error(`switch ${dpid} is not connected`);
    const parts = await session.multipart({
      kind: 'aggregate',
      tableId: OFPTT_ALL,
      outPort: OFPP_ANY,
      outGroup: OFPG_ANY,
      cookie,
      cookieMask: 0xffff_ffff_ffff_ffffn,
      match,
    });
    return parts.reduce((n, p) => n + (p.kind === 'aggregate' ? p.byteCount : 0n), 0n);
  }
}

// The forwarding service: feeds packet-ins, topology events and flow removals to the pure planner,
// applies the changes it returns to the flow table, and carries out its plans through the switches'
// programmers in waves (see programs.ts), so a flow's rules are all in place before its packet is
// released and deletes of replaced rules land last. Plans are not queued behind one another.
import type { Logger } from 'pino';
import type { Controller } from '../controller.ts';
import type { SwitchSession } from '../session.ts';
import type { FlowRemoved } from 'openflow-ts';
import type { Discovery, ParsedPacketIn } from '../topology/discovery.ts';
import type { Host, TopologyEvent } from '../topology/types.ts';
import { choosePath, defaultForwardingOptions, handleFlowRemoved, handlePacket, handleTopology, type ForwardingOptions, type Plan } from './forwarding.ts';
import { FlowTable, type FlowView, type RoutedFlow } from './flow-table.ts';
import { isForwardingCookie } from '../cookies.ts';
import { hostPaths, type HostPath } from './paths.ts';
import type { FlowKey } from './flowkey.ts';
import { PlanTracker, runPlan } from './programs.ts';

export interface ForwardingServiceOptions extends Partial<ForwardingOptions> {
  readonly logger?: Logger;
}

export interface PathAnswer {
  /** The path a flow without ports (ping) takes now. */
  readonly chosen: HostPath;
  /** Every equal-cost candidate (ECMP spreads flows with ports over these). */
  readonly candidates: readonly HostPath[];
}

export class Forwarding {
  readonly opts: ForwardingOptions;
  readonly counters = { plans: 0, programsFailed: 0, packetOuts: 0 };
  private readonly flows = new FlowTable();
  private readonly plans = new PlanTracker();
  private readonly log: Logger | undefined;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly controller: Controller,
    private readonly discovery: Discovery,
    opts: ForwardingServiceOptions = {},
  ) {
    const { logger, ...rest } = opts;
    this.opts = { ...defaultForwardingOptions, ...rest };
    this.log = logger;
  }

  /** The flows installed now, with their indexes. */
  get state(): FlowView {
    return this.flows;
  }

  start(): void {
    const onPacket = (p: ParsedPacketIn): void =>
      this.run(handlePacket(this.flows, this.discovery.snapshot(), { at: p.at, frame: p.frame, data: p.msg.data }, this.opts));
    const onTopology = (ev: TopologyEvent): void => this.run(handleTopology(this.flows, this.discovery.snapshot(), ev, this.opts));
    const onSwitch = (s: SwitchSession): void => {
      const onRemoved = (m: FlowRemoved): void => {
        if (isForwardingCookie(m.cookie)) this.run(handleFlowRemoved(this.flows, s.dpid, m.cookie));
      };
      s.on('flow_removed', onRemoved);
      s.once('close', () => s.off('flow_removed', onRemoved));
    };
    this.discovery.on('packet_in', onPacket);
    this.discovery.on('topology', onTopology);
    this.controller.on('switch_up', onSwitch);
    for (const s of this.controller.switches.values()) onSwitch(s);
    this.unsubscribe.push(
      () => this.discovery.off('packet_in', onPacket),
      () => this.discovery.off('topology', onTopology),
      () => this.controller.off('switch_up', onSwitch),
    );
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** Takes in flows a previous master installed (read back from the switches, routing/adopt.ts); returns how many were new. */
  adopt(flows: readonly RoutedFlow[]): number {
    return this.flows.adopt(flows);
  }

  /**
   * Numbers new flows from the group epoch's range on: rules a previous master left on the switches
   * keep cookies no new flow of ours takes, so deleting ours by cookie never deletes theirs.
   */
  numberFromEpoch(epoch: number): void {
    this.flows.reserveFrom(BigInt(epoch) << 32n);
  }

  /** Resolves once every plan made so far has been carried out (tests and shutdown use it). */
  settled(): Promise<void> {
    return this.plans.settled();
  }

  /** The path between two hosts as forwarding would choose it now; undefined when there is none. */
  pathBetween(src: Host, dst: Host): PathAnswer | undefined {
    const snap = this.discovery.snapshot();
    if (src.ipv4 === undefined || dst.ipv4 === undefined) return undefined;
    const key: FlowKey = this.opts.ecmp ? { src: src.ipv4, dst: dst.ipv4, proto: 1 } : { src: src.ipv4, dst: dst.ipv4 };
    const chosen = choosePath(snap, src.at, dst.at, key, this.opts);
    if (chosen === undefined) return undefined;
    return { chosen, candidates: hostPaths(snap, src.at, dst.at, this.opts.maxPaths) };
  }

  private run(plan: Plan): void {
    this.flows.apply(plan);
    if (plan.programs.length === 0 && plan.packetOuts.length === 0) return;
    this.counters.plans++;
    // Not queued behind earlier plans: each switch's programmer keeps the order of submission.
    this.plans.track(this.execute(plan), (err) => this.log?.error({ err }, 'forwarding plan failed'));
  }

  private async execute(plan: Plan): Promise<void> {
    const done = await runPlan(this.controller, plan.programs, plan.packetOuts, this.log, 'a forwarding program');
    this.counters.programsFailed += done.failed;
    this.counters.packetOuts += done.sent;
  }
}

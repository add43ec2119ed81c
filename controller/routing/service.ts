// The forwarding service: feeds packet-ins, topology events and flow removals to the pure planner,
// keeps its state, and carries out its plans. Plans run one at a time, in the order they were
// made, each switch program to its barrier (see programs.ts), so a flow's rules are all in place before
// its packet is released and deletes of replaced rules land last.
import type { Logger } from 'pino';
import type { Controller } from '../controller.ts';
import type { SwitchSession } from '../session.ts';
import type { FlowRemoved } from '../openflow/index.ts';
import type { Discovery, ParsedPacketIn } from '../topology/discovery.ts';
import type { Host, TopologyEvent } from '../topology/types.ts';
import {
  choosePath,
  defaultForwardingOptions,
  FORWARDING_COOKIE_TAG,
  handleFlowRemoved,
  handlePacket,
  handleTopology,
  initialForwardingState,
  type ForwardingOptions,
  type ForwardingState,
  type Plan,
} from './forwarding.ts';
import { hostPaths, type HostPath } from './paths.ts';
import { graphOf } from '../topology/snapshot.ts';
import type { FlowKey } from './flowkey.ts';
import { runPrograms } from './programs.ts';

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
  private current: ForwardingState = initialForwardingState;
  private queue: Promise<void> = Promise.resolve();
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

  get state(): ForwardingState {
    return this.current;
  }

  start(): void {
    const onPacket = (p: ParsedPacketIn): void =>
      this.run(handlePacket(this.current, this.discovery.snapshot(), { at: p.at, frame: p.frame, data: p.msg.data }, this.opts));
    const onTopology = (ev: TopologyEvent): void => this.run(handleTopology(this.current, this.discovery.snapshot(), ev, this.opts));
    const onSwitch = (s: SwitchSession): void => {
      const onRemoved = (m: FlowRemoved): void => {
        if ((m.cookie & (0xffn << 56n)) === FORWARDING_COOKIE_TAG) this.run(handleFlowRemoved(this.current, s.dpid, m.cookie));
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

  /** Resolves once every plan made so far has been carried out (tests and shutdown use it). */
  settled(): Promise<void> {
    return this.queue;
  }

  /** The path between two hosts as forwarding would choose it now; undefined when there is none. */
  pathBetween(src: Host, dst: Host): PathAnswer | undefined {
    const snap = this.discovery.snapshot();
    if (src.ipv4 === undefined || dst.ipv4 === undefined) return undefined;
    const key: FlowKey = this.opts.ecmp ? { src: src.ipv4, dst: dst.ipv4, proto: 1 } : { src: src.ipv4, dst: dst.ipv4 };
    const chosen = choosePath(snap, src.at, dst.at, key, this.opts);
    if (chosen === undefined) return undefined;
    return { chosen, candidates: hostPaths(graphOf(snap), src.at, dst.at, { limit: this.opts.maxPaths }) };
  }

  private run(plan: Plan): void {
    this.current = plan.state;
    if (plan.programs.length === 0 && plan.packetOuts.length === 0) return;
    this.counters.plans++;
    this.queue = this.queue.then(() => this.execute(plan));
  }

  private async execute(plan: Plan): Promise<void> {
    this.counters.programsFailed += await runPrograms(this.controller, plan.programs, this.log, 'a forwarding program');
    for (const p of plan.packetOuts) {
      const session = this.controller.switches.get(p.dpid);
      if (session === undefined) continue;
      for (const m of p.messages) session.send(m);
      this.counters.packetOuts++;
    }
  }
}

// Priority queues on the switch ports that high-priority intents leave by: created when such an
// intent takes a path, moved with it, and removed (the port back to one class at its rate) when the
// last one goes. Classification is by the DSCP mark the intent's rules set where the class enters
// the network (intents/rules.ts), so the queues need nothing else from the intent.
//
// How, and why tc: the controller runs on the machine whose Open vSwitch holds the ports, and
// every port is an interface of the same name in the controller's namespace (as shaping.ts reads
// them). What works with OVS's userspace datapath (netdev bridges, the only datapath here: no
// openvswitch kernel module), measured on a netdev bridge between two namespaces, the egress
// port shaped at 10 Mbit/s, eight saturating low-class TCP streams, one 6 Mbit/s high stream:
// - OVS QoS type linux-htb with Queue rows, and set_queue actions in the flows: ovs-vswitchd does
//   create the HTB tree on the interface (`ovs-appctl qos/show` lists Default and Queue 1, tc shows
//   classes 1:1 and 1:2), but nothing reaches the queue: after ~10,000 packets of the set_queue:1
//   flow, Queue 1 had tx_packets 0 and every packet was in the default class. The userspace
//   datapath sends through an AF_PACKET socket and does not carry set_queue's skb priority to it,
//   so the Queue table is honoured by the kernel datapath only.
// - tc on the port's interface, classifying by the DSCP the flows set (u32 on the TOS byte), does
//   work: OVS's send socket hands packets to the interface's qdisc like any socket. The high stream
//   kept 5.0 and 6.0 Mbit/s of its 6 in two runs (one more run stalled at start: see below), against
//   1.0 Mbit/s with one FIFO at the same rate.
// So these queues are tc HTB classes with DSCP filters. The leaf queues stay short: every packet
// waiting in a qdisc is charged to OVS's one send socket, shared by all ports, and when long queues
// fill its buffer OVS drops at send time, before classification, high and low alike (labs/priority
// measured this first). A port without shaping (no HTB or TBF rate found) gets no queues: without a
// rate below the sender's the qdisc never holds a queue to reorder; nor does a port with netem
// under its shaper (a Mininet link with delay or loss), whose emulation the new tree would drop.
import type { Logger } from 'pino';
import type { IntentRecord } from '../intents/types.ts';
import { htbRate, parseRootQdiscs, runTc, type RunTc } from '../topology/shaping.ts';
import { desiredQueues, queueChanges, type PortName, type PortQueueSpec } from './plan.ts';
import { defaultQueueSettings, isDropRoot, plainCommands, queueCommands, type QueueSettings } from './tc-commands.ts';

export interface PortQueuesOptions {
  readonly settings?: Partial<QueueSettings>;
  readonly run?: RunTc;
  /** A tc run that takes longer is killed (default 2 s). */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

interface Applied {
  readonly spec: PortQueueSpec;
  /** The port's rate when the queues went on: what the plain shaping gets back. */
  readonly rateBps: number;
}

export class PortQueues {
  readonly settings: QueueSettings;
  readonly counters = { applied: 0, removed: 0, failures: 0, unshaped: 0 };
  private readonly applied = new Map<string, Applied>();
  private want: ReadonlyMap<string, PortQueueSpec> = new Map();
  private running: Promise<void> | undefined;
  private dirty = false;
  private readonly run: RunTc;
  private readonly timeoutMs: number;
  private readonly log: Logger | undefined;

  constructor(
    private readonly portName: PortName,
    opts: PortQueuesOptions = {},
  ) {
    this.settings = { ...defaultQueueSettings, ...opts.settings };
    this.run = opts.run ?? runTc;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.log = opts.logger;
  }

  /** The intents changed: the ports that should hold queues are worked out now, the tc runs follow. */
  update(records: Iterable<IntentRecord>): void {
    this.want = desiredQueues(records, this.portName);
    this.kick();
  }

  /** Ports holding queues, by interface name. */
  ports(): ReadonlyMap<string, PortQueueSpec> {
    return new Map([...this.applied].map(([n, a]) => [n, a.spec]));
  }

  /** Resolves once tc has done what the last update asked (or failed trying). */
  async settled(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** Takes every queue off (the controller is stopping: ports keep their shaping, not our classes). */
  async stop(): Promise<void> {
    this.want = new Map();
    this.kick();
    await this.settled();
  }

  private kick(): void {
    this.dirty = true;
    if (this.running !== undefined) return;
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  /** One pass per burst of updates; an update during a pass makes one more pass. */
  private async loop(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      const current = new Map([...this.applied].map(([n, a]) => [n, a.spec]));
      const { apply, remove } = queueChanges(current, this.want);
      for (const name of remove) await this.removeFrom(name);
      for (const [name, spec] of apply) await this.applyTo(name, spec);
    }
  }

  private async applyTo(name: string, spec: PortQueueSpec): Promise<void> {
    try {
      const rateBps = this.applied.get(name)?.rateBps ?? (await this.rateOf(name));
      if (rateBps === undefined) {
        this.counters.unshaped++;
        this.log?.info({ port: name }, 'no shaping rate on the port, or it emulates delay or loss: no priority queues there');
        return;
      }
      await this.runAll(queueCommands(name, rateBps, spec.highDscps, this.settings));
      this.applied.set(name, { spec, rateBps });
      this.counters.applied++;
      this.log?.info({ port: name, rateBps, highDscps: spec.highDscps }, 'priority queues on');
    } catch (err) {
      this.counters.failures++;
      this.log?.warn({ port: name, err: (err as Error).message }, 'priority queues could not be set');
    }
  }

  private async removeFrom(name: string): Promise<void> {
    const a = this.applied.get(name);
    this.applied.delete(name);
    if (a === undefined) return;
    try {
      await this.runAll(plainCommands(name, a.rateBps));
      this.counters.removed++;
      this.log?.info({ port: name }, 'priority queues off');
    } catch (err) {
      // Most often the interface is gone (its link was deleted), and its qdiscs with it.
      this.counters.failures++;
      this.log?.debug({ port: name, err: (err as Error).message }, 'priority queues could not be removed');
    }
  }

  /**
   * The port's shaping rate now: a root TBF's rate, or what its HTB gives unclassified traffic.
   * None for a port that emulates delay or loss (netem under the shaper): the queues would replace
   * the tree, and the emulation would be lost with it.
   */
  private async rateOf(name: string): Promise<number | undefined> {
    const json = await this.run(['-j', 'qdisc', 'show', 'dev', name], this.timeoutMs);
    if (/"kind":\s*"netem"/.test(json)) return undefined;
    const root = parseRootQdiscs(json, name)[0];
    if (root?.kind === 'tbf') return root.rateBps;
    if (root?.kind === 'htb') return htbRate(await this.run(['class', 'show', 'dev', name], this.timeoutMs), root);
    return undefined;
  }

  private async runAll(cmds: readonly (readonly string[])[]): Promise<void> {
    for (const args of cmds) {
      try {
        await this.run(args, this.timeoutMs);
      } catch (err) {
        if (isDropRoot(args)) continue;
        throw new Error(`tc ${args.join(' ')}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
      }
    }
  }
}

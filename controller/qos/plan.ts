// Which switch ports need priority queues, as a pure function of the intents: every port a
// high-priority intent's path leaves by (both directions), named as the port's interface. The
// queues themselves are the same on every port (tc-commands.ts); a port only differs in the DSCP
// marks that go to its high class. port-queues.ts carries the plan out.
import { PRIORITY_DSCP, type IntentRecord } from '../intents/types.ts';

/** What one port's queues hold: the DSCP marks sent to the high class, ascending. */
export interface PortQueueSpec {
  readonly highDscps: readonly number[];
}

/** A port's interface name, from the switch's port description; undefined when unknown. */
export type PortName = (dpid: string, port: number) => string | undefined;

/** An intent in the high class: its mark is EF, whether asked for as `priority: high` or `dscp: 46`. */
export function highMark(r: IntentRecord): number | undefined {
  const dscp = r.spec.dscp;
  if (r.status !== 'active' || r.path === undefined || dscp === undefined) return undefined;
  return r.spec.priority === 'high' || dscp === PRIORITY_DSCP.high ? dscp : undefined;
}

/** The ports that should hold queues now, by interface name. */
export function desiredQueues(records: Iterable<IntentRecord>, portName: PortName): Map<string, PortQueueSpec> {
  const marks = new Map<string, Set<number>>();
  for (const r of records) {
    const dscp = highMark(r);
    if (dscp === undefined || r.path === undefined) continue;
    for (const hop of [...r.path.hops, ...r.path.reverseHops]) {
      const name = portName(hop.dpid, hop.outPort);
      if (name === undefined) continue;
      let set = marks.get(name);
      if (set === undefined) marks.set(name, (set = new Set()));
      set.add(dscp);
    }
  }
  return new Map([...marks].map(([name, set]) => [name, { highDscps: [...set].sort((a, b) => a - b) }]));
}

export interface QueueChanges {
  /** Ports to give queues, or whose queues hold other marks now. */
  readonly apply: ReadonlyMap<string, PortQueueSpec>;
  /** Ports whose queues go: back to one class at the link rate. */
  readonly remove: readonly string[];
}

export function queueChanges(applied: ReadonlyMap<string, PortQueueSpec>, desired: ReadonlyMap<string, PortQueueSpec>): QueueChanges {
  const apply = new Map<string, PortQueueSpec>();
  for (const [name, spec] of desired) {
    const now = applied.get(name);
    if (now === undefined || now.highDscps.join(',') !== spec.highDscps.join(',')) apply.set(name, spec);
  }
  return { apply, remove: [...applied.keys()].filter((n) => !desired.has(n)) };
}

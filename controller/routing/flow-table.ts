// The forwarding planner's state: the flows it has installed, found by key, by cookie, by the links
// they cross and by the hosts at their ends, plus recent flood fingerprints. The planner reads a
// FlowView and returns FlowChanges; the FlowTable applies them (deltas over mutable indexed maps,
// for the reasons given in topology/hosts.ts), so a packet-in, a flow removal, a link down or a
// host move costs the flows it concerns, not the flows there are.
import { flowIdOf } from '../cookies.ts';
import type { FlowKey } from './flowkey.ts';
import type { Hop } from './paths.ts';

export interface RoutedFlow {
  readonly key: FlowKey;
  /** flowKeyString(key), the flow's identity. */
  readonly id: string;
  readonly cookie: bigint;
  readonly srcMac: string;
  readonly dstMac: string;
  readonly hops: readonly Hop[];
  readonly linkIds: readonly string[];
}

export type FlowChange =
  | { readonly op: 'put'; readonly flow: RoutedFlow }
  | { readonly op: 'delete'; readonly id: string }
  /** A frame was flooded at `at`; fingerprints older than `windowMs` are forgotten then. */
  | { readonly op: 'flooded'; readonly fingerprint: string; readonly at: number; readonly windowMs: number };

/** What the planner sees of its state. */
export interface FlowView {
  readonly size: number;
  /** The number the next new flow's cookie takes. */
  readonly nextFlowId: bigint;
  get(id: string): RoutedFlow | undefined;
  byCookie(cookie: bigint): RoutedFlow | undefined;
  /** Flows whose path crosses a link. */
  onLink(linkId: string): Iterable<RoutedFlow>;
  /** Flows from or to a host. */
  ofHost(mac: string): Iterable<RoutedFlow>;
  values(): Iterable<RoutedFlow>;
  /** When this frame fingerprint was last flooded. */
  lastFlood(fingerprint: string): number | undefined;
}

const none: readonly RoutedFlow[] = [];

export class FlowTable implements FlowView {
  private readonly flows = new Map<string, RoutedFlow>();
  private readonly cookies = new Map<bigint, RoutedFlow>();
  private readonly links = new Map<string, Map<string, RoutedFlow>>();
  private readonly hosts = new Map<string, Map<string, RoutedFlow>>();
  /** In flood order, so the stale ones are at the front. */
  private readonly floods = new Map<string, number>();
  private next = 1n;

  get size(): number {
    return this.flows.size;
  }

  get nextFlowId(): bigint {
    return this.next;
  }

  /**
   * Takes in flows another controller of the group installed (routing/adopt.ts). Their cookies are
   * that controller's numbers: ours go on from where they were, so neither range runs into the other.
   */
  adopt(flows: readonly RoutedFlow[]): number {
    const next = this.next;
    let n = 0;
    for (const f of flows) {
      if (this.flows.has(f.id) || this.cookies.has(f.cookie)) continue;
      this.add(f);
      n++;
    }
    this.next = next;
    return n;
  }

  /** New flows are numbered from `from` on at least (a new master of a group starts above its predecessors' cookies). */
  reserveFrom(from: bigint): void {
    if (from > this.next) this.next = from;
  }

  get(id: string): RoutedFlow | undefined {
    return this.flows.get(id);
  }

  byCookie(cookie: bigint): RoutedFlow | undefined {
    return this.cookies.get(cookie);
  }

  onLink(linkId: string): Iterable<RoutedFlow> {
    return this.links.get(linkId)?.values() ?? none;
  }

  ofHost(mac: string): Iterable<RoutedFlow> {
    return this.hosts.get(mac)?.values() ?? none;
  }

  values(): Iterable<RoutedFlow> {
    return this.flows.values();
  }

  lastFlood(fingerprint: string): number | undefined {
    return this.floods.get(fingerprint);
  }

  /** How many flood fingerprints are remembered (they are pruned as floods happen). */
  get floodsRemembered(): number {
    return this.floods.size;
  }

  apply(plan: { readonly changes: readonly FlowChange[] }): void {
    for (const c of plan.changes) {
      switch (c.op) {
        case 'put':
          this.remove(c.flow.id);
          this.add(c.flow);
          break;
        case 'delete':
          this.remove(c.id);
          break;
        case 'flooded':
          for (const [fp, t] of this.floods) {
            if (c.at - t < c.windowMs) break;
            this.floods.delete(fp);
          }
          this.floods.delete(c.fingerprint);
          this.floods.set(c.fingerprint, c.at);
          break;
      }
    }
  }

  private add(f: RoutedFlow): void {
    this.flows.set(f.id, f);
    this.cookies.set(f.cookie, f);
    for (const l of f.linkIds) put(this.links, l, f);
    put(this.hosts, f.srcMac, f);
    put(this.hosts, f.dstMac, f);
    const id = flowIdOf(f.cookie);
    if (id >= this.next) this.next = id + 1n;
  }

  private remove(id: string): void {
    const f = this.flows.get(id);
    if (f === undefined) return;
    this.flows.delete(id);
    if (this.cookies.get(f.cookie) === f) this.cookies.delete(f.cookie);
    for (const l of f.linkIds) take(this.links, l, id);
    take(this.hosts, f.srcMac, id);
    take(this.hosts, f.dstMac, id);
  }
}

function put(index: Map<string, Map<string, RoutedFlow>>, key: string, f: RoutedFlow): void {
  let m = index.get(key);
  if (m === undefined) index.set(key, (m = new Map()));
  m.set(f.id, f);
}

function take(index: Map<string, Map<string, RoutedFlow>>, key: string, id: string): void {
  const m = index.get(key);
  if (m === undefined) return;
  m.delete(id);
  if (m.size === 0) index.delete(key);
}

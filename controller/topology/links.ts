// The link table. Each direction of a cable is its own entry, because LLDP proves one direction at
// a time and a half-broken cable must not carry traffic the broken way.
//
// As with hosts (see hosts.ts for why deltas over mutable maps): planners read a LinkTable and
// return changes, a LinkStore applies them and keeps the indexes that make each event cost the
// links it touches, not the links there are. An LLDP packet-in looks at the links out of its
// source port and into its destination port; a port or switch going down at the links on it.
import type { Capacity, CapacitySource } from './capacity.ts';
import { endpointKey, linkId, type Endpoint, type Link, type LinkDownReason, type Step, type TopologyEvent } from './types.ts';

export type LinkChange = { readonly op: 'put'; readonly link: Link } | { readonly op: 'delete'; readonly id: string };

export type LinkStep = Step<LinkChange>;

/** What planners and readers see of the link table: links by id, and its indexes. */
export interface LinkTable extends ReadonlyMap<string, Link> {
  /** Links (up or down) whose sending end is this port. */
  from(src: Endpoint): Iterable<Link>;
  /** Links (up or down) whose receiving end is this port. */
  into(dst: Endpoint): Iterable<Link>;
  /** Links (up or down) with either end on this switch. */
  ofSwitch(dpid: string): Iterable<Link>;
  /** Live links whose receiving end is on this switch. */
  upInto(dpid: string): Iterable<Link>;
  /** Whether the port is one end of a live link (either direction). */
  isLinkPort(at: Endpoint): boolean;
  /** Live links, least recently proven first. */
  up(): Iterable<Link>;
  /** Down links, longest down first. */
  down(): Iterable<Link>;
}

const none: readonly Link[] = [];

/**
 * The indexed store. Live links are also kept in the order they were last proven and down links
 * in the order they went down, so expiry and forgetting read from the front and stop at the first
 * that stays (this relies on `now` not going backwards).
 */
export class LinkStore implements LinkTable {
  private readonly byId = new Map<string, Link>();
  private readonly bySrc = new Map<string, Map<string, Link>>();
  private readonly byDst = new Map<string, Map<string, Link>>();
  private readonly bySwitch = new Map<string, Map<string, Link>>();
  private readonly liveInto = new Map<string, Map<string, Link>>();
  private readonly liveByAge = new Map<string, Link>();
  private readonly downByAge = new Map<string, Link>();
  /** Live link ends per port: a port stays a link port while any direction through it is up. */
  private readonly linkPorts = new Map<string, number>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Link | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  from(src: Endpoint): Iterable<Link> {
    return this.bySrc.get(endpointKey(src))?.values() ?? none;
  }

  into(dst: Endpoint): Iterable<Link> {
    return this.byDst.get(endpointKey(dst))?.values() ?? none;
  }

  ofSwitch(dpid: string): Iterable<Link> {
    return this.bySwitch.get(dpid)?.values() ?? none;
  }

  upInto(dpid: string): Iterable<Link> {
    return this.liveInto.get(dpid)?.values() ?? none;
  }

  isLinkPort(at: Endpoint): boolean {
    return this.linkPorts.has(endpointKey(at));
  }

  up(): Iterable<Link> {
    return this.liveByAge.values();
  }

  down(): Iterable<Link> {
    return this.downByAge.values();
  }

  /**
   * Applies a step's changes; returns the links whose liveness changed (came up, went down, or
   * left while up), which is what the switch graph and the edge ports depend on.
   */
  apply(step: { readonly changes: readonly LinkChange[] }): Link[] {
    const changed: Link[] = [];
    for (const c of step.changes) {
      const old = this.byId.get(c.op === 'put' ? c.link.id : c.id);
      // A refresh (same id, so same ends; still up) only swaps the record and its age: no index churn.
      if (c.op === 'put' && old?.state === 'up' && c.link.state === 'up') {
        this.refresh(old, c.link);
        continue;
      }
      if (old !== undefined) this.unindex(old);
      if (c.op === 'put') {
        this.index(c.link);
        if ((old?.state === 'up') !== (c.link.state === 'up')) changed.push(c.link);
      } else if (old?.state === 'up') {
        changed.push(old);
      }
    }
    return changed;
  }

  /** A copy, for tests and benchmarks that branch from one table; never used per event. */
  clone(): LinkStore {
    const c = new LinkStore();
    c.apply({ changes: [...this.byId.values()].map((link) => ({ op: 'put', link })) });
    return c;
  }

  private refresh(old: Link, l: Link): void {
    this.byId.set(l.id, l);
    this.bySrc.get(endpointKey(l.src))?.set(l.id, l);
    this.byDst.get(endpointKey(l.dst))?.set(l.id, l);
    this.bySwitch.get(l.src.dpid)?.set(l.id, l);
    this.bySwitch.get(l.dst.dpid)?.set(l.id, l);
    this.liveInto.get(l.dst.dpid)?.set(l.id, l);
    if (l.lastSeen !== old.lastSeen) this.liveByAge.delete(l.id);
    this.liveByAge.set(l.id, l);
  }

  private index(l: Link): void {
    this.byId.set(l.id, l);
    add(this.bySrc, endpointKey(l.src), l);
    add(this.byDst, endpointKey(l.dst), l);
    add(this.bySwitch, l.src.dpid, l);
    add(this.bySwitch, l.dst.dpid, l);
    if (l.state === 'up') {
      add(this.liveInto, l.dst.dpid, l);
      this.liveByAge.set(l.id, l);
      count(this.linkPorts, endpointKey(l.src), 1);
      count(this.linkPorts, endpointKey(l.dst), 1);
    } else {
      this.downByAge.set(l.id, l);
    }
  }

  private unindex(l: Link): void {
    this.byId.delete(l.id);
    drop(this.bySrc, endpointKey(l.src), l.id);
    drop(this.byDst, endpointKey(l.dst), l.id);
    drop(this.bySwitch, l.src.dpid, l.id);
    drop(this.bySwitch, l.dst.dpid, l.id);
    if (l.state === 'up') {
      drop(this.liveInto, l.dst.dpid, l.id);
      this.liveByAge.delete(l.id);
      count(this.linkPorts, endpointKey(l.src), -1);
      count(this.linkPorts, endpointKey(l.dst), -1);
    } else {
      this.downByAge.delete(l.id);
    }
  }

  forEach(fn: (value: Link, key: string, map: ReadonlyMap<string, Link>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.byId) fn.call(thisArg, v, k, this);
  }

  entries(): MapIterator<[string, Link]> {
    return this.byId.entries();
  }

  keys(): MapIterator<string> {
    return this.byId.keys();
  }

  values(): MapIterator<Link> {
    return this.byId.values();
  }

  [Symbol.iterator](): MapIterator<[string, Link]> {
    return this.byId.entries();
  }
}

function add(index: Map<string, Map<string, Link>>, key: string, l: Link): void {
  let m = index.get(key);
  if (m === undefined) index.set(key, (m = new Map()));
  m.set(l.id, l);
}

function drop(index: Map<string, Map<string, Link>>, key: string, id: string): void {
  const m = index.get(key);
  if (m === undefined) return;
  m.delete(id);
  if (m.size === 0) index.delete(key);
}

function count(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

/** LLDP sent from `src` arrived at `dst`; the capacity is what resolved for src (capacity.ts), the port speed when no source is named. */
export function observeLink(table: LinkTable, src: Endpoint, dst: Endpoint, capacityBps: number, now: number, capacitySource: CapacitySource = 'port'): LinkStep {
  const id = linkId(src, dst);
  const changes: LinkChange[] = [];
  const events: TopologyEvent[] = [];
  // A port has one peer: another live direction out of src or into dst is a recabled port.
  for (const l of table.from(src)) if (l.id !== id && l.state === 'up') down(changes, events, l, 'replaced', now);
  for (const l of table.into(dst)) if (l.id !== id && l.state === 'up') down(changes, events, l, 'replaced', now);
  const old = table.get(id);
  if (old?.state === 'up') {
    changes.push({ op: 'put', link: { ...old, capacityBps, capacitySource, lastSeen: now } });
  } else {
    const link: Link = { id, src, dst, capacityBps, capacitySource, state: 'up', since: now, lastSeen: now };
    changes.push({ op: 'put', link });
    events.push({ type: 'link_up', link });
  }
  return { changes, events };
}

/**
 * The capacity of what `src` sends changed (an override, a shaping rate read): its live links take
 * it now, without waiting for the next LLDP. Down links take it when they come back.
 */
export function setCapacity(table: LinkTable, src: Endpoint, capacity: Capacity): LinkStep {
  const changes: LinkChange[] = [];
  for (const l of table.from(src)) {
    if (l.state !== 'up' || (l.capacityBps === capacity.bps && l.capacitySource === capacity.source)) continue;
    changes.push({ op: 'put', link: { ...l, capacityBps: capacity.bps, capacitySource: capacity.source } });
  }
  return { changes, events: [] };
}

/** Links not heard from for longer than maxAgeMs go down. */
export function expireLinks(table: LinkTable, now: number, maxAgeMs: number): LinkStep {
  const hit: Link[] = [];
  for (const l of table.up()) {
    if (now - l.lastSeen <= maxAgeMs) break;
    hit.push(l);
  }
  return downAll(hit, 'expired', now);
}

/** A port went down or away: both directions through it go down at once. */
export function dropPort(table: LinkTable, at: Endpoint, reason: 'port_down' | 'port_deleted', now: number): LinkStep {
  return downAll([...table.from(at), ...table.into(at)], reason, now);
}

export function dropSwitch(table: LinkTable, dpid: string, now: number): LinkStep {
  return downAll([...table.ofSwitch(dpid)], 'switch_down', now);
}

/** Down links are kept for a while so people can see what broke; after that they are forgotten. */
export function forgetDown(table: LinkTable, now: number, afterMs: number): LinkStep {
  const changes: LinkChange[] = [];
  for (const l of table.down()) {
    if (now - l.since <= afterMs) break;
    changes.push({ op: 'delete', id: l.id });
  }
  return { changes, events: [] };
}

export function upLinks(table: LinkTable): Link[] {
  return [...table.up()];
}

function downAll(links: readonly Link[], reason: LinkDownReason, now: number): LinkStep {
  const changes: LinkChange[] = [];
  const events: TopologyEvent[] = [];
  for (const l of links) if (l.state === 'up') down(changes, events, l, reason, now);
  return { changes, events };
}

function down(changes: LinkChange[], events: TopologyEvent[], l: Link, reason: LinkDownReason, now: number): void {
  const link: Link = { ...l, state: 'down', since: now, downReason: reason };
  changes.push({ op: 'put', link });
  events.push({ type: 'link_down', link, reason });
}

// The link table as a value: every change is a function (table, input, now) → {table, events}.
// Each direction of a cable is its own entry, because LLDP proves one direction at a time and a
// half-broken cable must not carry traffic the broken way.
import { endpointKey, linkId, sameEndpoint, type Endpoint, type Link, type LinkDownReason, type Step, type TopologyEvent } from './types.ts';

export type LinkTable = ReadonlyMap<string, Link>;

export const emptyLinks: LinkTable = new Map();

/** LLDP sent from `src` arrived at `dst`. */
export function observeLink(table: LinkTable, src: Endpoint, dst: Endpoint, capacityBps: number, now: number): Step<LinkTable> {
  const id = linkId(src, dst);
  const next = new Map(table);
  const events: TopologyEvent[] = [];
  // A port has one peer: another live direction out of src or into dst is a recabled port.
  for (const l of table.values()) {
    if (l.id !== id && l.state === 'up' && (sameEndpoint(l.src, src) || sameEndpoint(l.dst, dst))) {
      events.push(...down(next, l, 'replaced', now));
    }
  }
  const old = table.get(id);
  if (old?.state === 'up') {
    next.set(id, { ...old, capacityBps, lastSeen: now });
  } else {
    const link: Link = { id, src, dst, capacityBps, state: 'up', since: now, lastSeen: now };
    next.set(id, link);
    events.push({ type: 'link_up', link });
  }
  return { state: next, events };
}

/** Links not heard from for longer than maxAgeMs go down. */
export function expireLinks(table: LinkTable, now: number, maxAgeMs: number): Step<LinkTable> {
  return downWhere(table, (l) => now - l.lastSeen > maxAgeMs, 'expired', now);
}

/** A port went down or away: both directions through it go down at once. */
export function dropPort(table: LinkTable, at: Endpoint, reason: 'port_down' | 'port_deleted', now: number): Step<LinkTable> {
  return downWhere(table, (l) => sameEndpoint(l.src, at) || sameEndpoint(l.dst, at), reason, now);
}

export function dropSwitch(table: LinkTable, dpid: string, now: number): Step<LinkTable> {
  return downWhere(table, (l) => l.src.dpid === dpid || l.dst.dpid === dpid, 'switch_down', now);
}

/** Down links are kept for a while so people can see what broke; after that they are forgotten. */
export function forgetDown(table: LinkTable, now: number, afterMs: number): LinkTable {
  const stale = [...table.values()].filter((l) => l.state === 'down' && now - l.since > afterMs);
  if (stale.length === 0) return table;
  const next = new Map(table);
  for (const l of stale) next.delete(l.id);
  return next;
}

export function upLinks(table: LinkTable): Link[] {
  return [...table.values()].filter((l) => l.state === 'up');
}

/** Ports that are one end of a live link (either direction), by endpointKey. */
export function linkPorts(table: LinkTable): ReadonlySet<string> {
  const ports = new Set<string>();
  for (const l of upLinks(table)) {
    ports.add(endpointKey(l.src));
    ports.add(endpointKey(l.dst));
  }
  return ports;
}

function downWhere(table: LinkTable, pred: (l: Link) => boolean, reason: LinkDownReason, now: number): Step<LinkTable> {
  const hit = [...table.values()].filter((l) => l.state === 'up' && pred(l));
  if (hit.length === 0) return { state: table, events: [] };
  const next = new Map(table);
  const events = hit.flatMap((l) => down(next, l, reason, now));
  return { state: next, events };
}

function down(into: Map<string, Link>, l: Link, reason: LinkDownReason, now: number): TopologyEvent[] {
  const link: Link = { ...l, state: 'down', since: now, downReason: reason };
  into.set(l.id, link);
  return [{ type: 'link_down', link, reason }];
}

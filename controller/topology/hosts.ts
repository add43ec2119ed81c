// The host table as a value: where each MAC was last seen at the edge, and its IPv4 address.
// Callers only feed observations from edge ports (no link on them); this module trusts that.
import { sameEndpoint, type Endpoint, type Host, type Step, type TopologyEvent } from './types.ts';

export type HostTable = ReadonlyMap<string, Host>;

export const emptyHosts: HostTable = new Map();

export interface HostSighting {
  readonly mac: string;
  /** The sender's IPv4 address when the packet tells it reliably (ARP sender, IPv4 source). */
  readonly ipv4?: string | undefined;
  readonly at: Endpoint;
}

export function learnHost(table: HostTable, s: HostSighting, now: number): Step<HostTable> {
  const next = new Map(table);
  const events: TopologyEvent[] = [];
  const old = table.get(s.mac);
  // An address belongs to one host: a newer claim (a re-addressed or replaced machine) wins.
  if (s.ipv4 !== undefined) {
    for (const h of table.values()) {
      if (h.mac !== s.mac && h.ipv4 === s.ipv4) next.set(h.mac, { ...h, ipv4: undefined });
    }
  }
  const ipv4 = s.ipv4 ?? old?.ipv4;
  if (old === undefined) {
    const host: Host = { mac: s.mac, ipv4, at: s.at, firstSeen: now, lastSeen: now };
    next.set(s.mac, host);
    events.push({ type: 'host_added', host });
  } else if (!sameEndpoint(old.at, s.at)) {
    const host: Host = { ...old, ipv4, at: s.at, lastSeen: now };
    next.set(s.mac, host);
    events.push({ type: 'host_moved', host, from: old.at });
  } else {
    next.set(s.mac, { ...old, ipv4, lastSeen: now });
  }
  return { state: next, events };
}

/**
 * A port turned out to be a link port (LLDP came in late): hosts learned there were really
 * packets passing through from another switch.
 */
export function removeHostsAt(table: HostTable, at: Endpoint): Step<HostTable> {
  return removeWhere(table, (h) => sameEndpoint(h.at, at), 'port_is_link');
}

export function expireHosts(table: HostTable, now: number, maxAgeMs: number): Step<HostTable> {
  return removeWhere(table, (h) => now - h.lastSeen > maxAgeMs, 'expired');
}

export function hostByIp(table: HostTable, ip: string): Host | undefined {
  for (const h of table.values()) if (h.ipv4 === ip) return h;
  return undefined;
}

function removeWhere(table: HostTable, pred: (h: Host) => boolean, reason: 'expired' | 'port_is_link'): Step<HostTable> {
  const hit = [...table.values()].filter(pred);
  if (hit.length === 0) return { state: table, events: [] };
  const next = new Map(table);
  for (const h of hit) next.delete(h.mac);
  return { state: next, events: hit.map((host) => ({ type: 'host_removed', host, reason })) };
}

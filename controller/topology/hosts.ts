// The host table: where each MAC was last seen at the edge, and its IPv4 address. Callers only
// feed observations from edge ports (no link on them); this module trusts that.
//
// Planners (learnHost, removeHostsAt, expireHosts) read a HostTable and return changes; a
// HostStore applies them to plain Maps and keeps the indexes. Deltas over mutable indexed maps
// rather than persistent maps: a packet-in then costs a few hash operations and one new Host
// record, whatever the number of hosts, and leaves little garbage under a packet-in storm, where a
// persistent map allocates a path of nodes per update.
import { endpointKey, sameEndpoint, type Endpoint, type Host, type Step, type TopologyEvent } from './types.ts';

export type HostChange = { readonly op: 'put'; readonly host: Host } | { readonly op: 'delete'; readonly mac: string };

export type HostStep = Step<HostChange>;

/** What planners and readers see of the host table: hosts by MAC, and its indexes. */
export interface HostTable extends ReadonlyMap<string, Host> {
  /** The one host that holds an address now. */
  byIp(ip: string): Host | undefined;
  /** Hosts attached at a port. */
  attachedAt(at: Endpoint): Iterable<Host>;
  /** Every host, least recently seen first. */
  byAge(): Iterable<Host>;
}

export interface HostSighting {
  readonly mac: string;
  /** The sender's IPv4 address when the packet tells it reliably (ARP sender, IPv4 source). */
  readonly ipv4?: string | undefined;
  readonly at: Endpoint;
}

const none: readonly Host[] = [];

/**
 * The indexed store. Hosts are kept in the order they were last seen (a refresh moves a host to
 * the end), so expiry reads from the front and stops at the first fresh host: O(expired + 1) per
 * tick rather than a scan of every host. This relies on `now` not going backwards; if it did, a
 * host would only expire later than it should.
 */
export class HostStore implements HostTable {
  private readonly byMac = new Map<string, Host>();
  private readonly ips = new Map<string, string>();
  private readonly ports = new Map<string, Map<string, Host>>();

  get size(): number {
    return this.byMac.size;
  }

  get(mac: string): Host | undefined {
    return this.byMac.get(mac);
  }

  has(mac: string): boolean {
    return this.byMac.has(mac);
  }

  byIp(ip: string): Host | undefined {
    const mac = this.ips.get(ip);
    return mac === undefined ? undefined : this.byMac.get(mac);
  }

  attachedAt(at: Endpoint): Iterable<Host> {
    return this.ports.get(endpointKey(at))?.values() ?? none;
  }

  byAge(): Iterable<Host> {
    return this.byMac.values();
  }

  apply(step: { readonly changes: readonly HostChange[] }): void {
    for (const c of step.changes) {
      if (c.op === 'put') this.put(c.host);
      else this.remove(c.mac);
    }
  }

  /** A copy, for tests and benchmarks that branch from one table; never used per event. */
  clone(): HostStore {
    const c = new HostStore();
    for (const h of this.byMac.values()) c.put(h);
    return c;
  }

  private put(h: Host): void {
    const old = this.byMac.get(h.mac);
    if (old !== undefined) {
      if (old.ipv4 !== undefined && old.ipv4 !== h.ipv4 && this.ips.get(old.ipv4) === h.mac) this.ips.delete(old.ipv4);
      if (!sameEndpoint(old.at, h.at)) this.unport(old);
      // Keep last-seen order: a fresher sighting goes to the back.
      if (h.lastSeen !== old.lastSeen) this.byMac.delete(h.mac);
    }
    this.byMac.set(h.mac, h);
    if (h.ipv4 !== undefined) this.ips.set(h.ipv4, h.mac);
    const key = endpointKey(h.at);
    let at = this.ports.get(key);
    if (at === undefined) this.ports.set(key, (at = new Map()));
    at.set(h.mac, h);
  }

  private remove(mac: string): void {
    const old = this.byMac.get(mac);
    if (old === undefined) return;
    this.byMac.delete(mac);
    if (old.ipv4 !== undefined && this.ips.get(old.ipv4) === mac) this.ips.delete(old.ipv4);
    this.unport(old);
  }

  private unport(h: Host): void {
    const key = endpointKey(h.at);
    const at = this.ports.get(key);
    if (at === undefined) return;
    at.delete(h.mac);
    if (at.size === 0) this.ports.delete(key);
  }

  forEach(fn: (value: Host, key: string, map: ReadonlyMap<string, Host>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.byMac) fn.call(thisArg, v, k, this);
  }

  entries(): MapIterator<[string, Host]> {
    return this.byMac.entries();
  }

  keys(): MapIterator<string> {
    return this.byMac.keys();
  }

  values(): MapIterator<Host> {
    return this.byMac.values();
  }

  [Symbol.iterator](): MapIterator<[string, Host]> {
    return this.byMac.entries();
  }
}

export function learnHost(table: HostTable, s: HostSighting, now: number): HostStep {
  const changes: HostChange[] = [];
  const events: TopologyEvent[] = [];
  const old = table.get(s.mac);
  // An address belongs to one host: a newer claim (a re-addressed or replaced machine) wins.
  if (s.ipv4 !== undefined) {
    const holder = table.byIp(s.ipv4);
    if (holder !== undefined && holder.mac !== s.mac) changes.push({ op: 'put', host: { ...holder, ipv4: undefined } });
  }
  const ipv4 = s.ipv4 ?? old?.ipv4;
  if (old === undefined) {
    const host: Host = { mac: s.mac, ipv4, at: s.at, firstSeen: now, lastSeen: now };
    changes.push({ op: 'put', host });
    events.push({ type: 'host_added', host });
  } else if (!sameEndpoint(old.at, s.at)) {
    const host: Host = { ...old, ipv4, at: s.at, lastSeen: now };
    changes.push({ op: 'put', host });
    events.push({ type: 'host_moved', host, from: old.at });
  } else {
    changes.push({ op: 'put', host: { ...old, ipv4, lastSeen: now } });
  }
  return { changes, events };
}

/**
 * A port turned out to be a link port (LLDP came in late): hosts learned there were really
 * packets passing through from another switch.
 */
export function removeHostsAt(table: HostTable, at: Endpoint): HostStep {
  return removeAll([...table.attachedAt(at)], 'port_is_link');
}

export function expireHosts(table: HostTable, now: number, maxAgeMs: number): HostStep {
  const hit: Host[] = [];
  for (const h of table.byAge()) {
    if (now - h.lastSeen <= maxAgeMs) break;
    hit.push(h);
  }
  return removeAll(hit, 'expired');
}

function removeAll(hit: readonly Host[], reason: 'expired' | 'port_is_link'): HostStep {
  return {
    changes: hit.map((h) => ({ op: 'delete', mac: h.mac })),
    events: hit.map((host) => ({ type: 'host_removed', host, reason })),
  };
}

// The group's host table in Redis: a master writes each host it learns or loses (one hash field per
// MAC, written on change, never per packet-in), and a controller that takes a switch over reads the
// hash back, so forwarding knows every host at once instead of waiting for each to speak again.
// Hosts are the one piece of a new master's picture the switches cannot give back: links come back
// with one LLDP round, flows are on the switches themselves.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { HostSighting } from '../topology/hosts.ts';
import type { Endpoint, Host } from '../topology/types.ts';

/** What the mirror needs of discovery. */
export interface HostSource {
  on(event: 'host_added' | 'host_removed', f: (h: Host) => void): unknown;
  on(event: 'host_moved', f: (h: Host, from: Endpoint) => void): unknown;
  off(event: 'host_added' | 'host_removed', f: (h: Host) => void): unknown;
  off(event: 'host_moved', f: (h: Host, from: Endpoint) => void): unknown;
  adoptHosts(sightings: Iterable<HostSighting>): void;
}

export class HostMirror {
  readonly counters = { written: 0, removed: 0, restored: 0, errors: 0 };
  private readonly off: (() => void)[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly source: HostSource,
    private readonly key: string,
    private readonly log?: Logger,
  ) {}

  start(): void {
    const put = (h: Host): void => this.put(h);
    const del = (h: Host): void => this.del(h);
    this.source.on('host_added', put);
    this.source.on('host_moved', put);
    this.source.on('host_removed', del);
    this.off.push(
      () => this.source.off('host_added', put),
      () => this.source.off('host_moved', put),
      () => this.source.off('host_removed', del),
    );
  }

  stop(): void {
    for (const f of this.off.splice(0)) f();
  }

  /** Reads the group's hosts and hands them to discovery; returns how many there were. */
  async restore(): Promise<number> {
    const all = await this.redis.hgetall(this.key);
    const sightings: HostSighting[] = [];
    for (const text of Object.values(all)) {
      const h = parseSighting(text);
      if (h !== undefined) sightings.push(h);
    }
    this.source.adoptHosts(sightings);
    this.counters.restored += sightings.length;
    return sightings.length;
  }

  private put(h: Host): void {
    const value: HostSighting = { mac: h.mac, ipv4: h.ipv4, at: h.at };
    this.redis.hset(this.key, h.mac, JSON.stringify(value)).then(
      () => void this.counters.written++,
      (err: Error) => this.failed(err),
    );
  }

  private del(h: Host): void {
    this.redis.hdel(this.key, h.mac).then(
      () => void this.counters.removed++,
      (err: Error) => this.failed(err),
    );
  }

  private failed(err: Error): void {
    this.counters.errors++;
    this.log?.warn({ err: err.message }, 'cluster: host table write to Redis failed');
  }
}

function parseSighting(text: string): HostSighting | undefined {
  try {
    const v = JSON.parse(text) as Partial<HostSighting>;
    if (typeof v.mac !== 'string' || typeof v.at?.dpid !== 'string' || typeof v.at.port !== 'number') return undefined;
    return { mac: v.mac, ipv4: typeof v.ipv4 === 'string' ? v.ipv4 : undefined, at: { dpid: v.at.dpid, port: v.at.port } };
  } catch {
    return undefined;
  }
}

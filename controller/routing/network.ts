// The network as the rest of the controller sees it: discovery and forwarding started and stopped
// together, plus the names people give hosts. The API and run.ts hold one of these.
import type { Logger } from 'pino';
import type { Controller } from '../controller.ts';
import type { Clock } from '../../bus/clock.ts';
import { Discovery, type Capacities, type DiscoveryOptions } from '../topology/discovery.ts';
import { isIpv4, isMac } from '../packet/index.ts';
import type { Host } from '../topology/types.ts';
import { Forwarding } from './service.ts';

export interface NetworkOptions {
  readonly lldpIntervalMs?: number;
  /** Bit/s per sending port, "<dpid>:<port>"; the port's current speed otherwise. */
  readonly capacities?: Capacities;
  /** Per-port capacities and a default for every link; and whether to read interfaces' shaping (capacity.ts). */
  readonly capacity?: DiscoveryOptions['capacity'];
  readonly shaping?: DiscoveryOptions['shaping'];
  /** Spread flows over equal-cost paths (default true). */
  readonly ecmp?: boolean;
  readonly idleTimeoutSec?: number;
  /** Host names by MAC (lower case), for the API: a topology file knows them, the network does not. */
  readonly hostNames?: ReadonlyMap<string, string>;
  /** The LLDP instance (a group of controllers shares one; default: random per process). */
  readonly lldpInstance?: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export class Network {
  readonly discovery: Discovery;
  readonly forwarding: Forwarding;
  readonly hostNames: ReadonlyMap<string, string>;
  /** MACs by lower-case name, so finding a host by name costs no scan of the names. */
  private readonly macByName: ReadonlyMap<string, string>;

  constructor(controller: Controller, opts: NetworkOptions = {}) {
    this.discovery = new Discovery(controller, {
      lldpIntervalMs: opts.lldpIntervalMs,
      capacities: opts.capacities,
      ...(opts.capacity === undefined ? {} : { capacity: opts.capacity }),
      ...(opts.shaping === undefined ? {} : { shaping: opts.shaping }),
      ...(opts.lldpInstance === undefined ? {} : { instance: opts.lldpInstance }),
      clock: opts.clock,
      logger: opts.logger,
    });
    this.forwarding = new Forwarding(controller, this.discovery, {
      ...(opts.ecmp !== undefined ? { ecmp: opts.ecmp } : {}),
      ...(opts.idleTimeoutSec !== undefined ? { idleTimeoutSec: opts.idleTimeoutSec } : {}),
      logger: opts.logger,
    });
    this.hostNames = opts.hostNames ?? new Map();
    const byName = new Map<string, string>();
    // The first host with a name keeps it, as a scan of the names in order would find.
    for (const [mac, name] of this.hostNames) if (!byName.has(name.toLowerCase())) byName.set(name.toLowerCase(), mac);
    this.macByName = byName;
  }

  start(): void {
    this.discovery.start();
    this.forwarding.start();
  }

  stop(): void {
    this.forwarding.stop();
    this.discovery.stop();
  }

  nameOf(host: Host): string | undefined {
    return this.hostNames.get(host.mac);
  }

  /** A host by name, IPv4 address or MAC, as people type them. */
  findHost(text: string): Host | undefined {
    const t = text.trim().toLowerCase();
    if (isMac(t)) return this.discovery.hosts.get(t);
    if (isIpv4(t)) return this.discovery.hosts.byIp(t);
    const mac = this.macByName.get(t);
    return mac === undefined ? undefined : this.discovery.hosts.get(mac);
  }

  /**
   * Whether text is shaped like a host reference at all: a MAC, an IPv4 address, or a name (a
   * letter, then letters, digits, '.', '_', '-'). Shaped but unknown is "not found", not "bad".
   */
  isHostSyntax(text: string): boolean {
    const t = text.trim().toLowerCase();
    return isMac(t) || isIpv4(t) || /^[a-z][a-z0-9._-]{0,63}$/.test(t);
  }
}

/** The parts of a topology file the network needs (structural, so the controller does not import the builder). */
export interface TopologyLike {
  readonly switches: readonly { readonly name: string; readonly dpid: string }[];
  readonly hosts: readonly { readonly name: string; readonly mac: string }[];
  readonly links: readonly { readonly a: string; readonly b: string; readonly bw: number; readonly aPort: number | null; readonly bPort: number | null }[];
}

/** Capacities (both directions of every switch-switch link; bw is Mbit/s) and host names from a topology. */
export function networkOptionsFromTopology(t: TopologyLike): Pick<NetworkOptions, 'capacities' | 'hostNames'> {
  const dpids = new Map(t.switches.map((s) => [s.name, s.dpid]));
  const capacities = new Map<string, number>();
  for (const l of t.links) {
    const a = dpids.get(l.a);
    const b = dpids.get(l.b);
    if (a === undefined || b === undefined || l.aPort === null || l.bPort === null) continue;
    capacities.set(`${a}:${l.aPort}`, l.bw * 1e6);
    capacities.set(`${b}:${l.bPort}`, l.bw * 1e6);
  }
  return { capacities, hostNames: new Map(t.hosts.map((h) => [h.mac.toLowerCase(), h.name])) };
}

// The discovery service: LLDP out of every port of every switch (at join, on port up, and every
// interval), links learned per direction from the LLDP that comes back, hosts learned from ARP and
// IPv4 at edge ports. State lives in TopologyState, changed only by the steps the table planners
// return; this class only feeds them and speaks.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Controller } from '../controller.ts';
import type { SwitchSession } from '../session.ts';
import { systemClock, type Cancel, type Clock } from '../../bus/clock.ts';
import type { PacketIn, Port, PortStatus } from 'openflow-ts';
import { OFP_NO_BUFFER, OFPP_CONTROLLER, OFPP_MAX, OFPPC_PORT_DOWN, OFPPR_DELETE, OFPPS_LINK_DOWN } from 'openflow-ts';
import { buildEthernet, buildMeshflowLldp, ETH_TYPE_LLDP, isMulticastMac, LLDP_MULTICAST, parseFrame, type Frame } from '../packet/index.ts';
import { dropPort, dropSwitch, expireLinks, forgetDown, observeLink, setCapacity, type LinkStep, type LinkTable } from './links.ts';
import { CapacityResolver, type Capacity, type CapacitySettings } from './capacity.ts';
import { ShapingWatcher, type ShapingOptions } from './shaping.ts';
import { expireHosts, learnHost, removeHostsAt, type HostSighting, type HostStep, type HostTable } from './hosts.ts';
import { isEdgePort, type NetworkSnapshot, type PortInfo } from './snapshot.ts';
import { TopologyState } from './state.ts';
import type { PathTables } from './shortest.ts';
import { endpointKey, linkId, type Endpoint, type Host, type Link, type LinkDownReason, type TopologyEvent } from './types.ts';

/** Capacity overrides in bit/s: "<dpid>:<port>" names the sending port of one direction. */
export type Capacities = ReadonlyMap<string, number>;

export interface DiscoveryOptions {
  readonly lldpIntervalMs?: number;
  readonly capacities?: Capacities;
  /** Per-port capacities and a default for every link (config file, --link-capacity). */
  readonly capacity?: Omit<CapacitySettings, 'topology'>;
  /** Read ports' shaping rates with tc (interfaces named as the ports, in this namespace); default: not. */
  readonly shaping?: ShapingOptions | false;
  /** Ports newer than this neither flood nor learn hosts (default: one LLDP interval). */
  readonly settleMs?: number;
  /** Hosts silent for this long are forgotten (default 5 minutes). */
  readonly hostTimeoutMs?: number;
  /** Down links stay visible (state "down") for this long (default 60 s). */
  readonly keepDownLinksMs?: number;
  /**
   * The LLDP instance (16 hex digits; default random per process). Controllers of one group share
   * one, so that a link between switches with different masters is proved by either's probes.
   */
  readonly instance?: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** A non-LLDP packet-in, parsed, after discovery has learned from it: what forwarding acts on. */
export interface ParsedPacketIn {
  readonly session: SwitchSession;
  readonly msg: PacketIn;
  readonly at: Endpoint;
  readonly frame: Frame;
}

export interface DiscoveryEvents {
  link_up: [Link];
  link_down: [Link, LinkDownReason];
  host_added: [Host];
  host_moved: [Host, Endpoint];
  host_removed: [Host];
  /** Every event above, as one union, for subscribers that handle them all. */
  topology: [TopologyEvent];
  packet_in: [ParsedPacketIn];
}

export class Discovery extends EventEmitter<DiscoveryEvents> {
  readonly instance: string;
  readonly intervalMs: number;
  readonly counters = { lldpSent: 0, lldpReceived: 0, foreignLldp: 0, malformed: 0 };
  private readonly topo: TopologyState;
  private readonly clock: Clock;
  private readonly settleMs: number;
  private readonly hostTimeoutMs: number;
  private readonly keepDownMs: number;
  /** Every capacity source but the port speed, resolved per link direction in O(1). */
  readonly capacity: CapacityResolver;
  private readonly shaping: ShapingWatcher | undefined;
  /** Ports by name, for the shaping rates tc reports by interface name. */
  private readonly portsByName = new Map<string, Map<string, Endpoint>>();
  private readonly log: Logger | undefined;
  private stopTimer: Cancel | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private interceptor: ((at: Endpoint, data: Buffer) => boolean) | undefined;

  constructor(
    private readonly controller: Controller,
    opts: DiscoveryOptions = {},
  ) {
    super();
    this.instance = opts.instance ?? randomBytes(8).toString('hex');
    this.intervalMs = opts.lldpIntervalMs ?? 1000;
    this.clock = opts.clock ?? systemClock;
    this.settleMs = opts.settleMs ?? this.intervalMs;
    this.topo = new TopologyState(this.settleMs);
    this.hostTimeoutMs = opts.hostTimeoutMs ?? 300_000;
    this.keepDownMs = opts.keepDownLinksMs ?? 60_000;
    this.capacity = new CapacityResolver({ ...opts.capacity, topology: opts.capacities ?? new Map() });
    this.shaping = opts.shaping ? new ShapingWatcher((name, bps) => this.onShaping(name, bps), { clock: this.clock, logger: opts.logger, ...opts.shaping }) : undefined;
    this.log = opts.logger;
  }

  start(): void {
    const up = (s: SwitchSession): void => this.onSwitchUp(s);
    const down = (s: SwitchSession): void => this.onSwitchDown(s);
    const pin = (s: SwitchSession, m: PacketIn): void => this.onPacketIn(s, m);
    const pst = (s: SwitchSession, m: PortStatus): void => this.onPortStatus(s, m);
    this.controller.on('switch_up', up);
    this.controller.on('switch_down', down);
    this.controller.on('packet_in', pin);
    this.controller.on('port_status', pst);
    this.unsubscribe.push(
      () => this.controller.off('switch_up', up),
      () => this.controller.off('switch_down', down),
      () => this.controller.off('packet_in', pin),
      () => this.controller.off('port_status', pst),
    );
    this.shaping?.start();
    for (const s of this.controller.switches.values()) this.onSwitchUp(s);
    this.stopTimer = this.clock.setInterval(() => this.tick(), this.intervalMs);
  }

  stop(): void {
    this.stopTimer?.();
    this.shaping?.stop();
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /**
   * Packet-ins the interceptor claims (it returns true) are neither learned from nor forwarded: the
   * delay prober (monitor/probes.ts) takes its frames back here. Returns the way to let go.
   */
  intercept(fn: (at: Endpoint, data: Buffer) => boolean): () => void {
    this.interceptor = fn;
    return () => {
      if (this.interceptor === fn) this.interceptor = undefined;
    };
  }

  get links(): LinkTable {
    return this.topo.links;
  }

  get hosts(): HostTable {
    return this.topo.hosts;
  }

  /** Shortest paths over the live links, kept per destination switch. */
  get paths(): PathTables {
    return this.topo.paths;
  }

  /** The capacity the direction sent out of `src` has now, by the precedence in capacity.ts. */
  capacityOf(src: Endpoint): Capacity {
    const port = this.controller.switches.get(src.dpid)?.ports.get(src.port);
    const speedKbps = this.topo.port(src)?.speedKbps ?? port?.currSpeed ?? 0;
    return this.capacity.resolve(src, port?.name, speedKbps * 1000);
  }

  /**
   * Sets (bps) or clears (undefined) the run-time capacity of the direction sent out of `src`;
   * its live links take the new capacity at once, so the monitor's next assessment uses it.
   */
  setCapacityOverride(src: Endpoint, bps: number | undefined): void {
    this.capacity.setOverride(src, bps);
    this.recapacity(src);
  }

  /** Sends LLDP out of every live port of a switch now (a new master rediscovers its links at once). */
  probe(dpid: string): void {
    const s = this.controller.switches.get(dpid);
    if (s !== undefined) this.sendLldp(s);
  }

  /** Hosts another controller of the group learned (cluster/hosts.ts), taken as sightings now. */
  adoptHosts(sightings: Iterable<HostSighting>): void {
    for (const h of sightings) this.learn(h.at, h);
  }

  /** Resolves when the shaping reads asked for so far are done (tests). */
  async shapingSettled(): Promise<void> {
    await this.shaping?.settled();
  }

  /** A view of the tables at this instant (no copy): plan from it before anything else changes them. */
  snapshot(): NetworkSnapshot {
    return this.topo.view(this.clock.now());
  }

  private tick(): void {
    const now = this.clock.now();
    // 3.5 intervals: three lost LLDP frames in a row, plus slack for timer jitter.
    this.applyLinks(expireLinks(this.topo.links, now, 3.5 * this.intervalMs));
    this.topo.applyLinks(forgetDown(this.topo.links, now, this.keepDownMs));
    this.applyHosts(expireHosts(this.topo.hosts, now, this.hostTimeoutMs));
    for (const s of this.controller.switches.values()) this.sendLldp(s);
  }

  private onSwitchUp(s: SwitchSession): void {
    const now = this.clock.now();
    const ports: PortInfo[] = [];
    for (const p of s.ports.values()) {
      if (!isLive(p)) continue;
      ports.push({ port: p.portNo, upSince: now, speedKbps: p.currSpeed });
      this.nameUp(s.dpid, p);
    }
    this.topo.switchUp(s.dpid, ports);
    this.sendLldp(s);
  }

  private onSwitchDown(s: SwitchSession): void {
    for (const p of s.ports.values()) this.nameDown({ dpid: s.dpid, port: p.portNo }, p.name);
    this.topo.switchDown(s.dpid);
    this.applyLinks(dropSwitch(this.topo.links, s.dpid, this.clock.now()));
  }

  private onPortStatus(s: SwitchSession, m: PortStatus): void {
    const now = this.clock.now();
    if (!this.topo.hasSwitch(s.dpid) || m.port.portNo > OFPP_MAX) return;
    const at = { dpid: s.dpid, port: m.port.portNo };
    if (m.reason === OFPPR_DELETE || !isLive(m.port)) {
      if (m.reason === OFPPR_DELETE) this.nameDown(at, m.port.name);
      this.topo.portDown(at);
      this.applyLinks(dropPort(this.topo.links, at, m.reason === OFPPR_DELETE ? 'port_deleted' : 'port_down', now));
      return;
    }
    const known = this.topo.port(at);
    this.topo.portUp(s.dpid, { port: m.port.portNo, upSince: known?.upSince ?? now, speedKbps: m.port.currSpeed });
    if (known === undefined) this.nameUp(s.dpid, m.port);
    // The speed may have changed: links out of the port take it if no other source overrides it.
    else if (known.speedKbps !== m.port.currSpeed) this.recapacity(at);
    // A port that just came up may be a cable back: probe it now rather than at the next tick.
    if (known === undefined) this.sendLldpOut(s, m.port);
  }

  private onPacketIn(s: SwitchSession, m: PacketIn): void {
    const inPort = m.match.find((f) => f.field === 'in_port');
    if (inPort === undefined || inPort.field !== 'in_port') return;
    const at = { dpid: s.dpid, port: inPort.value };
    if (this.interceptor?.(at, m.data) === true) return;
    const parsed = parseFrame(m.data);
    if (!parsed.ok) {
      this.counters.malformed++;
      return;
    }
    const frame = parsed.value;
    const l3 = frame.l3;
    switch (l3.kind) {
      case 'lldp':
        this.onLldp(at, l3.lldp.dpid, l3.lldp.port, l3.lldp.instance);
        return;
      case 'foreign_lldp':
        this.counters.foreignLldp++;
        return;
      case 'arp':
        this.learn(at, { mac: frame.eth.src, ipv4: l3.arp.senderIp === '0.0.0.0' ? undefined : l3.arp.senderIp, at });
        break;
      case 'ipv4':
        this.learn(at, { mac: frame.eth.src, ipv4: l3.ip.src === '0.0.0.0' ? undefined : l3.ip.src, at });
        break;
      case 'other':
        if (l3.error) this.counters.malformed++;
        break;
      default:
        return assertNever(l3);
    }
    this.emit('packet_in', { session: s, msg: m, at, frame });
  }

  private onLldp(at: Endpoint, srcDpid: string, srcPort: number, instance: string): void {
    this.counters.lldpReceived++;
    // Another controller's probe (or one of ours from before a restart) proves nothing about now.
    if (instance !== this.instance) {
      this.counters.foreignLldp++;
      return;
    }
    const src = { dpid: srcDpid, port: srcPort };
    if (this.topo.port(src) === undefined || this.topo.port(at) === undefined) return;
    const capacity = this.capacityOf(src);
    const step = observeLink(this.topo.links, src, at, capacity.bps, this.clock.now(), capacity.source);
    this.applyLinks(step);
    // A new direction: probe the way back at once rather than at the next interval, so a switch
    // that joins after its neighbours has both directions of its cables within a round trip.
    if (step.events.some((e) => e.type === 'link_up') && this.topo.links.get(linkId(at, src))?.state !== 'up') {
      const session = this.controller.switches.get(at.dpid);
      const port = session?.ports.get(at.port);
      if (session !== undefined && port !== undefined && isLive(port)) this.sendLldpOut(session, port);
    }
  }

  private recapacity(src: Endpoint): void {
    this.applyLinks(setCapacity(this.topo.links, src, this.capacityOf(src)));
  }

  /** A port came up: know it by name, and have its interface's shaping read (port up is when tc changes). */
  private nameUp(dpid: string, p: Port): void {
    if (p.name === '') return;
    let at = this.portsByName.get(p.name);
    if (at === undefined) this.portsByName.set(p.name, (at = new Map()));
    at.set(endpointKey({ dpid, port: p.portNo }), { dpid, port: p.portNo });
    this.shaping?.watch(p.name);
  }

  private nameDown(ep: Endpoint, name: string): void {
    const at = this.portsByName.get(name);
    if (at === undefined) return;
    at.delete(endpointKey(ep));
    if (at.size > 0) return;
    this.portsByName.delete(name);
    this.shaping?.forget(name);
    this.capacity.setShaping(name, undefined);
  }

  private onShaping(name: string, bps: number | undefined): void {
    if (!this.capacity.setShaping(name, bps)) return;
    this.log?.info({ port: name, bps: bps ?? 0 }, 'interface shaping rate');
    for (const ep of this.portsByName.get(name)?.values() ?? []) this.recapacity(ep);
  }

  private learn(at: Endpoint, sighting: HostSighting): void {
    const now = this.clock.now();
    if (isMulticastMac(sighting.mac) || !isEdgePort(this.topo.view(now), at)) return;
    this.applyHosts(learnHost(this.topo.hosts, sighting, now));
  }

  private sendLldp(s: SwitchSession): void {
    for (const p of s.ports.values()) if (isLive(p) && this.topo.port({ dpid: s.dpid, port: p.portNo }) !== undefined) this.sendLldpOut(s, p);
  }

  private sendLldpOut(s: SwitchSession, p: Port): void {
    const frame = buildEthernet({
      dst: LLDP_MULTICAST,
      src: p.hwAddr,
      ethType: ETH_TYPE_LLDP,
      payload: buildMeshflowLldp({ dpid: s.dpid, port: p.portNo, instance: this.instance }),
    });
    this.counters.lldpSent++;
    s.send({ type: 'packet_out', bufferId: OFP_NO_BUFFER, inPort: OFPP_CONTROLLER, actions: [{ type: 'output', port: p.portNo, maxLen: 0 }], data: frame });
  }

  private applyLinks(step: LinkStep): void {
    this.topo.applyLinks(step);
    for (const ev of step.events) {
      // Hosts "seen" on a port before LLDP proved it a link were passers-by from the next switch.
      if (ev.type === 'link_up') {
        this.applyHosts(removeHostsAt(this.topo.hosts, ev.link.src));
        this.applyHosts(removeHostsAt(this.topo.hosts, ev.link.dst));
      }
      this.publish(ev);
    }
  }

  private applyHosts(step: HostStep): void {
    this.topo.applyHosts(step);
    for (const ev of step.events) this.publish(ev);
  }

  private publish(ev: TopologyEvent): void {
    switch (ev.type) {
      case 'link_up':
        this.log?.info({ link: ev.link.id }, 'link up');
        this.emit('link_up', ev.link);
        break;
      case 'link_down':
        this.log?.info({ link: ev.link.id, reason: ev.reason }, 'link down');
        this.emit('link_down', ev.link, ev.reason);
        break;
      case 'host_added':
        this.emit('host_added', ev.host);
        break;
      case 'host_moved':
        this.emit('host_moved', ev.host, ev.from);
        break;
      case 'host_removed':
        this.emit('host_removed', ev.host);
        break;
      default:
        assertNever(ev);
    }
    this.emit('topology', ev);
  }
}

/** A physical port that can carry traffic: link up and not administratively down. */
function isLive(p: Port): boolean {
  return p.portNo <= OFPP_MAX && (p.state & OFPPS_LINK_DOWN) === 0 && (p.config & OFPPC_PORT_DOWN) === 0;
}

function assertNever(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}

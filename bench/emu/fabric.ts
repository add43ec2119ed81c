// Emulated switches wired as a fabric: a packet-out on a wired port arrives at the neighbour as a
// packet-in (reason ACTION, in_port the neighbour's port), which is how LLDP discovery works;
// by default only LLDP frames cross, so a flood never loops. Port statistics come from the loads
// set per link direction or per port; a cable can be taken down and up (PORT_STATUS both ends).
import type { Clock } from '../../bus/clock.ts';
import { ETH_TYPE_LLDP } from '../../controller/packet/index.ts';
import { announceFrame, packetIn, REASON_ACTION, REASON_NO_MATCH } from './packets.ts';
import type { EmuOfSwitch, SwitchHooks } from './switch.ts';
import { cableLinkIds, hex16, type Cable, type EmuHost, type Wiring } from './wiring.ts';

export interface FabricOptions {
  /** Deliver every packet-out on a wired port, not only LLDP. */
  readonly deliverAll: boolean;
  /** After a switch joins, its hosts announce themselves this much later (ms); < 0: never by themselves. */
  readonly hostDelayMs: number;
  readonly clock: Clock;
}

interface Direction {
  readonly cable: number;
  readonly src: { readonly sw: number; readonly port: number };
  readonly dst: { readonly sw: number; readonly port: number };
  /** Configured load in bit/s; carried only while the cable is up. */
  bps: number;
}

/** What a load setting names: one link direction, one port (of a switch, either direction), or a share of links. */
export type LoadTarget =
  | { readonly linkId: string }
  | { readonly dpid: string; readonly port: number; readonly dir: 'tx' | 'rx' | 'both' }
  | { readonly randomFraction: number; readonly seed?: number }
  | { readonly allLinks: true };

export class FabricNetwork implements SwitchHooks {
  delivered = 0;
  dropped = 0;
  hostAnnouncements = 0;
  private switches: readonly EmuOfSwitch[] = [];
  /** peer[sw][port-1] = cable index, or -1. */
  private readonly cableAt: Int32Array[];
  private readonly up: boolean[];
  private readonly directions = new Map<string, Direction>();
  private readonly swByDpid = new Map<string, number>();
  private readonly hostsOf: EmuHost[][];
  private xid = 1;

  constructor(
    readonly wiring: Wiring,
    private readonly opts: FabricOptions,
  ) {
    this.cableAt = wiring.switches.map((s) => new Int32Array(s.nPorts).fill(-1));
    wiring.switches.forEach((s, i) => this.swByDpid.set(hex16(s.dpid), i));
    this.up = wiring.cables.map(() => true);
    this.hostsOf = wiring.switches.map(() => []);
    for (const h of wiring.hosts) this.hostsOf[h.switchIndex]!.push(h);
    wiring.cables.forEach((c, ci) => {
      this.cableAt[c.a.sw]![c.a.port - 1] = ci;
      this.cableAt[c.b.sw]![c.b.port - 1] = ci;
      const [ab, ba] = cableLinkIds(wiring, c);
      this.directions.set(ab, { cable: ci, src: c.a, dst: c.b, bps: 0 });
      this.directions.set(ba, { cable: ci, src: c.b, dst: c.a, bps: 0 });
    });
  }

  attach(switches: readonly EmuOfSwitch[]): void {
    this.switches = switches;
  }

  get linkIds(): string[] {
    return [...this.directions.keys()];
  }

  connected(sw: EmuOfSwitch): void {
    // A cable that went down while the switch was away is down on this connection too.
    const cables = this.cableAt[sw.index]!;
    for (let p = 1; p <= cables.length; p++) {
      const ci = cables[p - 1]!;
      sw.portUp[p - 1] = ci < 0 || this.up[ci]!;
    }
    if (this.opts.hostDelayMs >= 0) this.opts.clock.setTimeout(() => this.announceHosts(sw.index), this.opts.hostDelayMs);
  }

  /** Each host (of one switch, or of all) sends one gratuitous ARP from its port. */
  announceHosts(switchIndex?: number): number {
    let n = 0;
    const hosts = switchIndex === undefined ? this.wiring.hosts : (this.hostsOf[switchIndex] ?? []);
    for (const h of hosts) {
      const sw = this.switches[h.switchIndex];
      if (sw === undefined || !sw.featured) continue;
      sw.writeRaw(packetIn(this.xid++, h.port, announceFrame(h.mac, h.ipv4), REASON_NO_MATCH));
      n++;
    }
    this.hostAnnouncements += n;
    return n;
  }

  packetOut(sw: EmuOfSwitch, data: Buffer, outPorts: readonly number[]): void {
    if (!this.opts.deliverAll && (data.length < 14 || data.readUInt16BE(12) !== ETH_TYPE_LLDP)) return;
    const cables = this.cableAt[sw.index]!;
    for (const p of outPorts) {
      const ci = p >= 1 && p <= cables.length ? cables[p - 1]! : -1;
      if (ci < 0) continue;
      if (!this.up[ci]) {
        this.dropped++;
        continue;
      }
      const c = this.wiring.cables[ci]!;
      const far = c.a.sw === sw.index && c.a.port === p ? c.b : c.a;
      const peer = this.switches[far.sw];
      if (peer === undefined || !peer.featured) {
        this.dropped++;
        continue;
      }
      peer.writeRaw(packetIn(this.xid++, far.port, data, REASON_ACTION));
      this.delivered++;
    }
  }

  flowMod(): void {}

  /** Sets a load in bit/s; returns the link directions (or ports) it changed. */
  setLoad(target: LoadTarget, bps: number): string[] {
    const now = this.opts.clock.now();
    if ('linkId' in target) {
      const d = this.directions.get(target.linkId);
      if (d === undefined) throw new Error(`no link ${target.linkId}`);
      this.setDirection(d, bps, now);
      return [target.linkId];
    }
    if ('dpid' in target) {
      const i = this.swByDpid.get(target.dpid);
      const sw = i === undefined ? undefined : this.switches[i];
      if (sw === undefined || target.port < 1 || target.port > sw.nPorts) throw new Error(`no port ${target.dpid}:${target.port}`);
      const c = sw.ports[target.port - 1]!;
      if (target.dir !== 'rx') c.tx.setRate(bps, now);
      if (target.dir !== 'tx') c.rx.setRate(bps, now);
      return [`${target.dpid}:${target.port}`];
    }
    const ids = [...this.directions.keys()];
    let chosen = ids;
    if ('randomFraction' in target) {
      const n = Math.round(target.randomFraction * ids.length);
      const rand = mulberry32(target.seed ?? 1);
      // Partial Fisher-Yates: the first n of a shuffle.
      chosen = ids.slice();
      for (let k = 0; k < n; k++) {
        const r = k + Math.floor(rand() * (chosen.length - k));
        [chosen[k], chosen[r]] = [chosen[r]!, chosen[k]!];
      }
      chosen = chosen.slice(0, n);
    }
    for (const id of chosen) this.setDirection(this.directions.get(id)!, bps, now);
    return chosen;
  }

  /** Takes a cable down (both directions): PORT_STATUS link down at both ends, nothing delivered. */
  setCable(linkId: string, isUp: boolean): void {
    const d = this.directions.get(linkId);
    if (d === undefined) throw new Error(`no link ${linkId}`);
    if (this.up[d.cable] === isUp) return;
    const now = this.opts.clock.now();
    this.up[d.cable] = isUp;
    const c: Cable = this.wiring.cables[d.cable]!;
    for (const id of cableLinkIds(this.wiring, c)) this.apply(this.directions.get(id)!, now);
    this.switches[c.a.sw]?.setPortUp(c.a.port, isUp);
    this.switches[c.b.sw]?.setPortUp(c.b.port, isUp);
  }

  private setDirection(d: Direction, bps: number, now: number): void {
    d.bps = bps;
    this.apply(d, now);
  }

  private apply(d: Direction, now: number): void {
    const rate = this.up[d.cable] ? d.bps : 0;
    this.switches[d.src.sw]?.ports[d.src.port - 1]?.tx.setRate(rate, now);
    this.switches[d.dst.sw]?.ports[d.dst.port - 1]?.rx.setRate(rate, now);
  }
}

/** A small seeded generator, so "10% of links at random" is the same 10% in every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

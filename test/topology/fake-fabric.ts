// Switches without sockets for the discovery service: each fake session records what is sent to
// it, and the fabric carries LLDP packet-outs across its cables as packet-ins at the far end, as
// real switches do. Hosts "send" by raising packet-ins at their port.
import { EventEmitter } from 'node:events';
import { Controller } from '../../controller/controller.ts';
import type { Outgoing, SwitchSession } from '../../controller/session.ts';
import { OFP_NO_BUFFER, OFPP_MAX, OFPPR_DELETE, OFPPS_LINK_DOWN, type PacketIn, type Port } from 'openflow-ts';
import { arpRequest, buildArp, buildEthernet, ETH_TYPE_ARP } from '../../controller/packet/index.ts';
import { endpointKey, type Endpoint } from '../../controller/topology/types.ts';

export const dp = (n: number): string => n.toString(16).padStart(16, '0');
export const ep = (n: number, port: number): Endpoint => ({ dpid: dp(n), port });

export class FakeSwitch extends EventEmitter {
  readonly ports = new Map<number, Port>();
  readonly sent: Outgoing[] = [];

  constructor(
    readonly dpid: string,
    portNos: readonly number[],
  ) {
    super();
    for (const p of portNos) this.ports.set(p, port(p, 0));
  }

  send(m: Outgoing): void {
    this.sent.push(m);
  }
}

function port(portNo: number, state: number): Port {
  const mac = `02:00:00:00:${(portNo >> 8).toString(16).padStart(2, '0')}:${(portNo & 0xff).toString(16).padStart(2, '0')}`;
  return { portNo, hwAddr: mac, name: `p${portNo}`, config: 0, state, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 1_000_000, maxSpeed: 1_000_000 };
}

export class FakeFabric {
  readonly controller = new Controller();
  readonly switches = new Map<string, FakeSwitch>();
  private readonly cables = new Map<string, Endpoint>();
  /** Cables that drop what is sent over them (LLDP stops arriving, the ports stay up). */
  readonly silent = new Set<string>();

  addSwitch(dpid: string, ports: readonly number[]): FakeSwitch {
    const s = new FakeSwitch(dpid, ports);
    this.switches.set(dpid, s);
    const session = s as unknown as SwitchSession;
    this.controller.switches.set(dpid, session);
    this.controller.emit('switch_up', session);
    return s;
  }

  removeSwitch(dpid: string): void {
    const s = this.switches.get(dpid);
    if (s === undefined) return;
    this.switches.delete(dpid);
    this.controller.switches.delete(dpid);
    this.controller.emit('switch_down', s as unknown as SwitchSession, 'gone');
  }

  cable(a: Endpoint, b: Endpoint): void {
    this.cables.set(endpointKey(a), b);
    this.cables.set(endpointKey(b), a);
  }

  /** A port's link goes down (or the port is deleted), as the switch reports it. */
  portDown(at: Endpoint, deleted = false): void {
    const s = this.switches.get(at.dpid);
    if (s === undefined) return;
    const p = port(at.port, OFPPS_LINK_DOWN);
    if (deleted) s.ports.delete(at.port);
    else s.ports.set(at.port, p);
    this.controller.emit('port_status', s as unknown as SwitchSession, { type: 'port_status', xid: 0, reason: deleted ? OFPPR_DELETE : 2, port: p });
  }

  portUp(at: Endpoint): void {
    const s = this.switches.get(at.dpid);
    if (s === undefined) return;
    const p = port(at.port, 0);
    s.ports.set(at.port, p);
    this.controller.emit('port_status', s as unknown as SwitchSession, { type: 'port_status', xid: 0, reason: 2, port: p });
  }

  /** Carries every packet-out sent so far across its cable; returns how many arrived. */
  deliver(): number {
    let n = 0;
    for (const s of this.switches.values()) {
      for (const m of s.sent.splice(0)) {
        if (m.type !== 'packet_out') continue;
        for (const a of m.actions) {
          if (a.type !== 'output' || a.port > OFPP_MAX) continue;
          const from = { dpid: s.dpid, port: a.port };
          const to = this.cables.get(endpointKey(from));
          if (to === undefined || this.silent.has(endpointKey(from))) continue;
          const peer = this.switches.get(to.dpid);
          const live = peer?.ports.get(to.port);
          if (peer === undefined || live === undefined || (live.state & OFPPS_LINK_DOWN) !== 0) continue;
          this.packetIn(to, m.data);
          n++;
        }
      }
    }
    return n;
  }

  packetIn(at: Endpoint, data: Buffer): void {
    const s = this.switches.get(at.dpid);
    if (s === undefined) return;
    const msg: PacketIn = { type: 'packet_in', xid: 0, bufferId: OFP_NO_BUFFER, totalLen: data.length, reason: 0, tableId: 0, cookie: 0n, match: [{ field: 'in_port', value: at.port }], data };
    this.controller.emit('packet_in', s as unknown as SwitchSession, msg);
  }

  /** A host at a port asks who has some address: the ARP that teaches the controller where it is. */
  arp(at: Endpoint, mac: string, ip: string, targetIp = '10.255.255.254'): void {
    this.packetIn(at, buildEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: mac, ethType: ETH_TYPE_ARP, payload: buildArp(arpRequest(mac, ip, targetIp)) }));
  }
}

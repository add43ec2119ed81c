// What routing needs to know about the network at one instant, as plain data: switches and their
// live ports, links, hosts, and `now`. Edge ports are derived here, in one place.
import { endpointKey, type Endpoint } from './types.ts';
import { linkPorts, type LinkTable } from './links.ts';
import type { HostTable } from './hosts.ts';
import { buildGraph, type SwitchGraph } from './graph.ts';

export interface PortInfo {
  readonly port: number;
  /** When the port was last seen to come up (or its switch to join). */
  readonly upSince: number;
  readonly speedKbps: number;
}

export interface NetworkSnapshot {
  readonly now: number;
  /** Live (link-up, not admin-down) physical ports of every ready switch. */
  readonly switches: ReadonlyMap<string, readonly PortInfo[]>;
  readonly links: LinkTable;
  readonly hosts: HostTable;
  /**
   * How long a port must be up before a packet may be flooded out of it or a host learned on it.
   * LLDP goes out at once when a port or switch appears, so by then a link on it is known; before,
   * a port that is really a link could pass a flood round a loop.
   */
  readonly settleMs: number;
}

export function graphOf(s: NetworkSnapshot): SwitchGraph {
  return buildGraph(s.switches.keys(), s.links.values());
}

/** Every port where hosts may be: up, settled, and with no live link on it. */
export function edgePorts(s: NetworkSnapshot): Endpoint[] {
  const links = linkPorts(s.links);
  const out: Endpoint[] = [];
  for (const [dpid, ports] of s.switches) {
    for (const p of ports) {
      const ep = { dpid, port: p.port };
      if (s.now - p.upSince >= s.settleMs && !links.has(endpointKey(ep))) out.push(ep);
    }
  }
  return out;
}

export function isEdgePort(s: NetworkSnapshot, at: Endpoint): boolean {
  const info = s.switches.get(at.dpid)?.find((p) => p.port === at.port);
  return info !== undefined && s.now - info.upSince >= s.settleMs && !linkPorts(s.links).has(endpointKey(at));
}

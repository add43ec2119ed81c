// The topology's state in one place, without sockets: live ports per switch, the link and host
// stores, the edge ports (live ports with no live link), and shortest-path tables over the live
// links. Discovery feeds it from OpenFlow; tests and benchmarks feed it directly. Every change
// costs what it touches: a link change re-derives the edge status of its two ports and drops the
// path tables (rebuilt lazily, per destination, on the next lookup).
import { HostStore, type HostChange } from './hosts.ts';
import { LinkStore, type LinkChange } from './links.ts';
import { PathTables } from './shortest.ts';
import type { NetworkSnapshot, PortInfo } from './snapshot.ts';
import type { Endpoint, Link } from './types.ts';

export class TopologyState {
  readonly links = new LinkStore();
  readonly hosts = new HostStore();
  readonly paths: PathTables;
  private readonly ports = new Map<string, Map<number, PortInfo>>();
  private readonly edges = new Map<string, Map<number, PortInfo>>();

  constructor(readonly settleMs: number) {
    this.paths = new PathTables((dpid) => this.linksInto(dpid));
  }

  /** A view for planners at `now`; it reads the live tables, so plan before applying. */
  view(now: number): NetworkSnapshot {
    return { now, switches: this.ports, edges: this.edges, links: this.links, hosts: this.hosts, paths: this.paths, settleMs: this.settleMs };
  }

  port(at: Endpoint): PortInfo | undefined {
    return this.ports.get(at.dpid)?.get(at.port);
  }

  hasSwitch(dpid: string): boolean {
    return this.ports.has(dpid);
  }

  /** A switch joined (or rejoined) with these live ports. */
  switchUp(dpid: string, ports: Iterable<PortInfo>): void {
    const live = new Map<number, PortInfo>();
    for (const p of ports) live.set(p.port, p);
    this.ports.set(dpid, live);
    this.edges.delete(dpid);
    for (const p of live.values()) this.refreshEdge({ dpid, port: p.port });
    this.paths.invalidate();
  }

  /** A switch left: its ports go (its links are dropped by the caller's link step). */
  switchDown(dpid: string): void {
    this.ports.delete(dpid);
    this.edges.delete(dpid);
    this.paths.invalidate();
  }

  /** A port is live (new, or its speed changed); returns whether it was unknown before. */
  portUp(dpid: string, info: PortInfo): boolean {
    const ports = this.ports.get(dpid);
    if (ports === undefined) return false;
    const fresh = !ports.has(info.port);
    ports.set(info.port, info);
    this.refreshEdge({ dpid, port: info.port });
    return fresh;
  }

  portDown(at: Endpoint): void {
    this.ports.get(at.dpid)?.delete(at.port);
    this.refreshEdge(at);
  }

  applyLinks(step: { readonly changes: readonly LinkChange[] }): void {
    const changed = this.links.apply(step);
    for (const l of changed) {
      this.refreshEdge(l.src);
      this.refreshEdge(l.dst);
    }
    if (changed.length > 0) this.paths.invalidate();
  }

  applyHosts(step: { readonly changes: readonly HostChange[] }): void {
    this.hosts.apply(step);
  }

  /** Live links into a switch from switches that are here: what the path tables walk. */
  private *linksInto(dpid: string): Iterable<Link> {
    for (const l of this.links.upInto(dpid)) if (this.ports.has(l.src.dpid)) yield l;
  }

  private refreshEdge(at: Endpoint): void {
    const info = this.ports.get(at.dpid)?.get(at.port);
    const edge = info !== undefined && !this.links.isLinkPort(at);
    let ports = this.edges.get(at.dpid);
    if (edge) {
      if (ports === undefined) {
        if (!this.ports.has(at.dpid)) return;
        this.edges.set(at.dpid, (ports = new Map()));
      }
      ports.set(at.port, info);
    } else if (ports !== undefined) {
      ports.delete(at.port);
      if (ports.size === 0) this.edges.delete(at.dpid);
    }
  }
}
